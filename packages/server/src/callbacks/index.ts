export type { AllMemberPushEvent, CallbackCommand, OfflinePushEvent } from './events.js';
export { MAX_EVENTS_PER_REQUEST, MAX_EVENTS_PER_ROW } from './events.js';
export { CallbackOutbox, callbackStatus, type CallbackStatus } from './outbox.js';
export { callbackView } from './view.js';
export { CallbackSender, type CallbackSenderOptions } from './sender.js';
export { CallbackSettings, CallbackFields, maskToken, readCallbackConfig, saveCallbackConfig, type CallbackConfig, type CallbackPatch, type SaveCallbackResult } from './settings.js';
export { callbackMetrics, type CallbackMetrics } from './metrics.js';
export { callbackSign, callbackUrl } from './signing.js';
export { packEvents, packGroups, requestBodies, unpackBody, type EventGroup, type PackedRow } from './compact.js';
