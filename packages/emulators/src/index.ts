export { WebPushEmulator, type ReceivedPush, type WebPushSubscriptionJson, type Failure } from './webpush.js';
export { FcmEmulator, type FcmReceived, type FcmFailure } from './fcm.js';
export { HuaweiEmulator, type HuaweiReceived } from './huawei.js';
export { XiaomiEmulator, type XiaomiReceived } from './xiaomi.js';
export { OppoEmulator, type OppoReceived } from './oppo.js';
export { VivoEmulator, VIVO_AUTH_REFUSED, type VivoReceived } from './vivo.js';
export { MeizuEmulator, type MeizuReceived } from './meizu.js';
export { HonorEmulator, type HonorReceived } from './honor.js';
export { HarmonyEmulator, type HarmonyReceived, type HarmonyRevoke, type HarmonyFailure } from './harmony.js';
