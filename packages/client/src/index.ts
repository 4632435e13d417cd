export { HeraldClient } from './client.js';
export { HeraldError } from './errors.js';
export { FileStorage, MemoryStorage } from './storage.js';
export { SDK_VERSION } from './version.js';
export type {
  DeviceInfo,
  DisconnectedEvent,
  HeraldClientOptions,
  HeraldEventHandler,
  HeraldEventName,
  HeraldEvents,
  KeyValueStorage,
  Platform,
  PushMessage,
  ReadyEvent,
  Vendor,
  WebSocketConstructorLike,
  WebSocketLike,
} from './types.js';
