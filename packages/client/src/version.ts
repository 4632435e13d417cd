/** Sent as `sdkVersion` on register and in the gateway `auth` frame. Keep in step with package.json. */
export const SDK_VERSION = 'herald-js/0.1.0';
