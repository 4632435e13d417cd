import type { CallMeta } from './message.js';
import type { OfflinePushInfo } from './offline-push-info.js';

const noun = (call: CallMeta) => (call.media === 'video' ? 'video call' : 'voice call');

/**
 * The notification of a call invitation: the caller as title, "Incoming video call" as text,
 * unless the backend wrote its own. It is never held back: PushFlag 0, online and offline. How it
 * rings offline (APNs VoIP or a time-sensitive alert, the Android vendors' call categories) the
 * adapters read from the message's `call` (docs/vendors.md).
 */
export function callPushInfo(info: OfflinePushInfo | undefined, call: CallMeta): OfflinePushInfo {
  const given = info ?? { PushFlag: 0 };
  return {
    ...given,
    PushFlag: 0,
    Title: given.Title ?? call.callerNick ?? call.caller,
    Desc: given.Desc ?? `Incoming ${noun(call)}`,
  };
}

/** What replaces the invitation on devices that showed it, once the caller hangs up: a missed call. */
export function missedCallInfo(info: OfflinePushInfo | undefined, call: CallMeta): OfflinePushInfo {
  const given = info ?? { PushFlag: 0 };
  return { ...given, PushFlag: 0, Title: given.Title ?? call.callerNick ?? call.caller, Desc: given.Desc ?? `Missed ${noun(call)}` };
}
