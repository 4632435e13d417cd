/** The webhooks Herald posts, by Tencent's CallbackCommand. */
export type CallbackCommand = 'Push.AllMemberPush' | 'Push.OfflinePush';

/** Tencent posts 1–100 events per request (trtc.io/document/67551). */
export const MAX_EVENTS_PER_REQUEST = 100;

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
