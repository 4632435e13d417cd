export { BatchPushAcceptor, type BatchPushRequest, type BatchPushResult, type BatchPushDeps } from './batch-push.js';
export { loadBacklog } from './backlog.js';
export { sweepExpired } from './expiry.js';
export { OfflinePushInfo } from './offline-push-info.js';
export { pickLanguage } from './locale.js';
