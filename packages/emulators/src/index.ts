export { WebPushEmulator, type ReceivedPush, type WebPushSubscriptionJson, type Failure } from './webpush.js';
