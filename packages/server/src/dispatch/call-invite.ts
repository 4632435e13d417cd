import type { CallMeta } from './message.js';
import type { OfflinePushInfo } from './offline-push-info.js';

const noun = (call: CallMeta) => (call.media === 'video' ? 'video call' : 'voice call');

/**
 * The notification of a call invitation: the caller as title, "Incoming video call" as text,
 * unless the backend wrote its own. On iOS it goes as a VoIP push where the device has a PushKit
 * token (`IsVoipPush`, which falls back to an alert without one, reference §3.4), marked
 * time-sensitive so that focus modes let it through; on Android at high priority. It is never held
 * back: PushFlag 0, online and offline.
 */
export function callPushInfo(info: OfflinePushInfo | undefined, call: CallMeta): OfflinePushInfo {
  const given = info ?? { PushFlag: 0 };
  return {
    ...given,
    PushFlag: 0,
    Title: given.Title ?? call.callerNick ?? call.caller,
    Desc: given.Desc ?? `Incoming ${noun(call)}`,
    ApnsInfo: { IsVoipPush: 1, InterruptionLevel: 'time-sensitive', ...(given.ApnsInfo ?? {}) },
    AndroidInfo: { GooglePriority: 'high', ...(given.AndroidInfo ?? {}) },
  };
}

/** What replaces the invitation on devices that showed it, once the caller hangs up: a missed call. */
export function missedCallInfo(info: OfflinePushInfo | undefined, call: CallMeta): OfflinePushInfo {
  const given = info ?? { PushFlag: 0 };
  return { ...given, PushFlag: 0, Title: given.Title ?? call.callerNick ?? call.caller, Desc: given.Desc ?? `Missed ${noun(call)}` };
}
