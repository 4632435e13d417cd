/** Public types of the SDK. Wire shapes follow docs/protocol.md. */

export type Platform = 'android' | 'ios' | 'harmony' | 'web' | 'node' | 'electron' | 'react-native' | 'other';

/** The offline channel a `token` belongs to (protocol §2.1). */
export type Vendor =
  | 'apns'
  | 'apns-voip'
  | 'fcm'
  | 'huawei'
  | 'honor'
  | 'xiaomi'
  | 'oppo'
  | 'vivo'
  | 'meizu'
  | 'nio'
  | 'harmony'
  | 'webpush';

export interface DeviceInfo {
  platform: Platform;
  /** `null` clears the field on update (protocol §2.2). */
  vendor?: Vendor | null;
  token?: string | null;
  /**
   * iOS: the PushKit VoIP token, sent beside the APNs alert token in `token` (vendor `apns`), so
   * VoIP pushes reach PushKit and the others the notification center. `null` clears it.
   */
  voipToken?: string | null;
  certificateId?: number | null;
  /** BCP 47 tag; the server picks the message text by it. */
  locale?: string;
  /** IANA time zone name. */
  timeZone?: string;
  appVersion?: string;
  deviceModel?: string;
  osVersion?: string;
  notificationPermission?: 'granted' | 'denied' | 'default';
}

/** A one-to-one conversation (id = the other user's UserID) or a group (id = GroupID). */
export type ConversationType = 'c2c' | 'group';

export interface MutedConversation {
  type: ConversationType;
  id: string;
  /** Epoch ms the mute ends; `null` = until unmuted. */
  until: number | null;
}

/** Daily do-not-disturb hours; `end` before `start` spans midnight (22:00–07:00). */
export interface DoNotDisturb {
  /** 'HH:MM', 24-hour, inclusive. */
  start: string;
  /** 'HH:MM', 24-hour, exclusive. */
  end: string;
  /** IANA name; absent = the time zone the device reported, else UTC. */
  timeZone?: string | null;
}

/**
 * Where the SDK keeps its install id, registration, credential and recently seen message ids.
 * Shaped like the Web Storage API so `localStorage` (or React Native's AsyncStorage) fits as is;
 * each method may be sync or async.
 */
export interface KeyValueStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** The part of the WebSocket API the SDK uses: met by the browser `WebSocket` and by `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drops the socket without a closing handshake (used for dead connections). */
  terminate?(): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

export interface HeraldClientOptions {
  /** Base URL of the Herald server, e.g. "http://127.0.0.1:8080". A path prefix is kept. */
  server: string;
  sdkAppId: number;
  appKey: string;
  /** Device fields sent on register. `platform` defaults to the detected runtime. */
  device?: Partial<DeviceInfo>;
  /** Ask for a custom RegistrationID (1–128 of `[A-Za-z0-9._:@-]`). */
  registrationId?: string;
  /** Default: `localStorage` in browsers, a JSON file (`storagePath`) in Node, else memory. */
  storage?: KeyValueStorage;
  /** File used by the default Node storage. Default './.herald-device.json'. */
  storagePath?: string;
  /** Default: `globalThis.WebSocket`, else the `ws` package (loaded on demand). */
  WebSocket?: WebSocketConstructorLike;
  fetch?: typeof fetch;
  /** Reconnect back-off: exponential with full jitter. Defaults 500 / 30000 ms. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** Acks are batched into one frame per window of this length. Default 20 ms. */
  ackDelayMs?: number;
}

export interface PushMessage {
  /** Message id (the push's TaskId); the same for every resend. */
  id: string;
  /** Per-device sequence number; the handle the SDK acks. */
  seq: number;
  title: string;
  desc: string;
  ext?: string;
  lang?: string;
  from?: string;
  sentAt: number;
  expiresAt: number;
  /** The push's OfflinePushInfo as the app's backend sent it, with a push template filled in. */
  info: Record<string, unknown>;
  /** A chat message: the conversation it belongs to, as this user sees it. */
  conversation?: Conversation;
  /** A chat message: who sent it and Tencent's message identity. */
  chat?: ChatDetails;
  /** A chat message: the user's unread count after it, for the app's badge. */
  badge?: number;
}

/** 'c2c': one-to-one, id = the other user's UserID; 'group': id = the GroupID. */
export interface Conversation {
  type: 'c2c' | 'group';
  id: string;
}

export interface ChatDetails {
  senderNick?: string;
  groupName?: string;
  msgKey?: string;
  msgSeq?: number;
  msgRandom: number;
  /** Unix seconds. */
  msgTime: number;
}

/** A call invitation (the `call` event). */
export interface CallInvitation {
  /** The push's id: what `callCancelled` names, and what `reportClick` takes. */
  id: string;
  callId: string;
  roomId?: string;
  media: 'audio' | 'video';
  /** The caller's UserID. */
  caller: string;
  callerNick?: string;
  /** Seconds it rings for from `sentAt`. */
  timeoutSeconds: number;
  sentAt: number;
  expiresAt: number;
  title: string;
  desc: string;
}

/** The caller hung up before the call was answered. */
export interface CallCancelledEvent {
  id: string;
  callId: string;
}

/** The user tapped a notification (`handleNotificationClick`, or `reportClick` of a message the SDK delivered). */
export interface NotificationClickEvent {
  id: string;
  ext?: string;
  conversation?: Conversation;
}

export interface ReadyEvent {
  registrationId: string;
}

export interface DisconnectedEvent {
  code: number;
  reason: string;
  willReconnect: boolean;
}

export interface HeraldEvents {
  message: PushMessage;
  revoke: string;
  call: CallInvitation;
  callCancelled: CallCancelledEvent;
  notificationClicked: NotificationClickEvent;
  ready: ReadyEvent;
  disconnected: DisconnectedEvent;
  error: Error;
}

export type HeraldEventName = keyof HeraldEvents;

/** A handler may be async; for 'message' and 'call' the SDK acks once it resolves. */
export type HeraldEventHandler<E extends HeraldEventName> = (payload: HeraldEvents[E]) => void | Promise<void>;
