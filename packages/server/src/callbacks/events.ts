/** The webhooks Herald posts, by Tencent's CallbackCommand. */
export type CallbackCommand = 'Push.AllMemberPush' | 'Push.OfflinePush';

/** Tencent posts 1–100 events per request (trtc.io/document/67551). */
export const MAX_EVENTS_PER_REQUEST = 100;

/**
 * An outbox row holds up to this many events and is posted as requests of at most 100, in order.
 * Ten requests to a row: a large push stores a tenth of the rows, whole pages of them rather than a
 * 4 KB page for each 2 KB row, and compiles a tenth of the inserts (docs/benchmarks.md, 2026-11-27).
 */
export const MAX_EVENTS_PER_ROW = 1000;

/**
 * One `Push.AllMemberPush` event (reference §5.1, trtc.io/document/67551), field names as Tencent
 * spells them, plus Herald's RegistrationID. Both times are Unix seconds, as Tencent's document
 * says of TaskTime and EventTime. `CallbackCommand` is added by the outbox.
 */
export interface AllMemberPushEvent {
  /** 1 offline push (a vendor channel), 2 online push (Herald's gateway). */
  EventType: 1 | 2;
  TaskId: string;
  /** The push's DataId, '' when it had none. */
  DataId: string;
  /** When the push was accepted, Unix seconds. */
  TaskTime: number;
  /** When this step happened, Unix seconds. */
  EventTime: number;
  /** The UserID the device is bound to, '' when none. */
  To_Account: string;
  RegistrationID: string;
  /** Tencent's PushPlatform numbers (0–8), Herald's own above them (stats/platforms.ts). */
  PushPlatform: number;
  DeviceType: number;
  /** 1 sent, 2 reached, 3 clicked. */
  PushStage: 1 | 2 | 3;
  /** 0 when the step succeeded; otherwise the loss reason's code. */
  ErrCode: number;
  ErrInfo: string;
}

/**
 * One `Push.OfflinePush` event (reference §5.2, trtc.io/document/67552): a step of a chat message
 * or call push to one device, field names as Tencent spells them, plus Herald's RegistrationID.
 * Every event carries both MsgKey and GroupID ('' where they do not apply), so that the events of
 * one request share their fields. Times are Unix seconds.
 */
export interface OfflinePushEvent {
  /** 1 one-to-one message (and call invitation), 2 group message. */
  EventType: 1 | 2;
  /** When this step happened, Unix seconds. */
  EventTime: number;
  /** The sender (the caller of a call invitation). */
  From_Account: string;
  /** The UserID the device is bound to, '' when none. */
  To_Account: string;
  RegistrationID: string;
  /** As in Push.AllMemberPush: 0 on Herald's gateway, else the device vendor's number. */
  PushPlatform: number;
  /** 1 sent, 2 reached, 3 clicked. */
  PushStage: 1 | 2 | 3;
  /** One-to-one messages: the message's MsgKey; '' otherwise. */
  MsgKey: string;
  /** Group messages: the GroupID; '' otherwise. */
  GroupID: string;
  MsgSeq: number;
  MsgRandom: number;
  /** When the message was sent, Unix seconds. */
  MsgTime: number;
  /** The push's TaskId, as normal_push_trace takes it. */
  PushID: string;
  ErrCode: number;
  ErrInfo: string;
}
