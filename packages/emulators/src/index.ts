export { WebPushEmulator, type ReceivedPush, type WebPushSubscriptionJson, type Failure } from './webpush.js';
export { FcmEmulator, type FcmReceived, type FcmFailure } from './fcm.js';
