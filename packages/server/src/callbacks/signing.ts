import crypto from 'node:crypto';

/**
 * Tencent's callback signature: hex SHA-256 of the token followed by RequestTime in Unix seconds
 * (cloud.tencent.com/document/product/269/117703, "Security Considerations" of Chat webhooks;
 * reference §5). The receiver recomputes it and refuses a RequestTime more than a minute off.
 */
export function callbackSign(token: string, requestTime: number): string {
  return crypto.createHash('sha256').update(token + String(requestTime)).digest('hex');
}

/**
 * The URL a callback is posted to: the app's URL with Tencent's query
 * `SdkAppid, CallbackCommand, contenttype=json` (trtc.io/document/67551), and `Sign, RequestTime`
 * when the app set a token. A query the app's URL already has is kept.
 */
export function callbackUrl(base: string, sdkAppId: number, command: string, token: string | undefined, nowSeconds: number): string {
  const url = new URL(base);
  url.searchParams.append('SdkAppid', String(sdkAppId));
  url.searchParams.append('CallbackCommand', command);
  url.searchParams.append('contenttype', 'json');
  if (token) {
    url.searchParams.append('Sign', callbackSign(token, nowSeconds));
    url.searchParams.append('RequestTime', String(nowSeconds));
  }
  return url.toString();
}
