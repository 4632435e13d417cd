import type { DeviceMessage } from '../../dispatch/message.js';

/**
 * What the app reads from a vendor notification when the user taps it, the same string pairs on
 * every vendor (docs/vendors.md, "Chat and call pushes"): the TaskId (`id`), the push's Ext (`ext`),
 * and for a chat push its conversation and sender, for a call push the invitation.
 */

/**
 * A chat push's conversation (`convType` c2c or group, `convId`) and sender's UserID (`sender`); a
 * call's `callId`, `roomId`, `media`, `caller`, `callerNick`, `timeout` (seconds it rings) and
 * `sentAt` (ms: vivo and Meizu keep a push longer than a call rings, so the app checks it).
 * Strings only, as FCM data, vivo's clientCustomMap and APNs custom keys need.
 */
function chatCallData(m: DeviceMessage): Record<string, string> {
  const out: Record<string, string> = {};
  if (m.chat) Object.assign(out, { convType: m.chat.type, convId: m.chat.id, sender: m.from });
  const c = m.call;
  if (c) {
    Object.assign(out, { callId: c.callId, media: c.media, caller: c.caller, timeout: String(c.timeoutSeconds), sentAt: String(m.sentAt) });
    if (c.roomId !== undefined) out.roomId = c.roomId;
    if (c.callerNick !== undefined) out.callerNick = c.callerNick;
  }
  return out;
}

/**
 * Herald's click payload: `{id, ext?, ...chat or call}`. A vendor field too small for it all
 * (`maxChars` of its JSON) drops the Ext first: the id and the conversation or call still open the
 * right screen.
 */
export function heraldPayload(taskId: string, m: DeviceMessage, maxChars = Infinity): Record<string, string> {
  const base = { id: taskId, ...chatCallData(m) };
  const full = m.ext !== undefined ? { ...base, ext: m.ext } : base;
  return JSON.stringify(full).length <= maxChars ? full : base;
}

/**
 * The badge Huawei, Honor and HarmonyOS take (0–99 set, 1–99 add; reference §3.2): the device's
 * unread count (`VendorTarget.badge`) wins over BadgeSetNum, which wins over BadgeAddNum.
 */
export function badge99(m: DeviceMessage, targetBadge: number | undefined): { add: number } | { set: number } | undefined {
  const set = targetBadge ?? m.info.BadgeSetNum;
  if (typeof set === 'number') return { set: Math.max(0, Math.min(99, set)) };
  if (typeof m.info.BadgeAddNum === 'number' && m.info.BadgeAddNum > 0) return { add: Math.min(99, m.info.BadgeAddNum) };
  return undefined;
}
