export { HeraldClient } from './client.js';
export { HeraldError } from './errors.js';
export { FileStorage, MemoryStorage } from './storage.js';
export { SDK_VERSION } from './version.js';
export type {
  CallCancelledEvent,
  CallInvitation,
  ChatDetails,
  Conversation,
  ConversationType,
  DeviceInfo,
  DoNotDisturb,
  DisconnectedEvent,
  HeraldClientOptions,
  HeraldEventHandler,
  HeraldEventName,
  HeraldEvents,
  KeyValueStorage,
  NotificationClickEvent,
  MutedConversation,
  Platform,
  PushMessage,
  ReadyEvent,
  Vendor,
  WebSocketConstructorLike,
  WebSocketLike,
} from './types.js';
