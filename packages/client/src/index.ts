export { HeraldClient } from './client.js';
export { HeraldError } from './errors.js';
export { FileStorage, MemoryStorage } from './storage.js';
export { SDK_VERSION } from './version.js';
export type {
  CallCancelledEvent,
  CallInvitation,
  ChatDetails,
  Conversation,
  DeviceInfo,
  DisconnectedEvent,
  HeraldClientOptions,
  HeraldEventHandler,
  HeraldEventName,
  HeraldEvents,
  KeyValueStorage,
  NotificationClickEvent,
  Platform,
  PushMessage,
  ReadyEvent,
  Vendor,
  WebSocketConstructorLike,
  WebSocketLike,
} from './types.js';
