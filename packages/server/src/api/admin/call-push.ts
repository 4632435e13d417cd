import { z } from 'zod';
import { callPushInfo, missedCallInfo } from '../../dispatch/call-invite.js';
import { applyPushTemplate, OfflinePushInfo, revokeTask } from '../../dispatch/index.js';
import type { CallMeta, StoredMessage } from '../../dispatch/message.js';
import { tasks } from '../../store/index.js';
import { messageIdentity } from './chat-push.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { notFound, parseBody, withErrors } from './input.js';

const Account = z.string().min(1).max(128);
const CallId = z.string().min(1).max(128);

/** A group call rings at most this many callees per request. */
const MAX_CALLEES = 50;

/**
 * `v4/timpush/call_push`, Herald's own: an RTC backend invites callees to a call. Online callees get
 * it at once on the long connection (the SDK's `call` event); offline ones through their vendor
 * (APNs VoIP, the vendors' call categories). It expires when the call stops ringing.
 */
const CallPushBody = z.object({
  From_Account: Account,
  CallerNick: z.string().max(128).optional(),
  To_Account: z.union([Account, z.array(Account).min(1).max(MAX_CALLEES)]),
  CallId: CallId,
  RoomId: z.string().min(1).max(128).optional(),
  MediaType: z.enum(['audio', 'video']).default('audio'),
  /** Seconds the invitation rings for (default 30). */
  Timeout: z.number().int().min(5).max(600).default(30),
  OfflinePushInfo: OfflinePushInfo.optional(),
});

export const callPushCommand: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(CallPushBody, body);
    const to = [...new Set(typeof b.To_Account === 'string' ? [b.To_Account] : b.To_Account)].filter((a) => a !== b.From_Account);
    if (to.length === 0) throw new TimError(TimCode.jsonParse, 'To_Account names no one but the caller');
    const call: CallMeta = { callId: b.CallId, media: b.MediaType, caller: b.From_Account, timeoutSeconds: b.Timeout };
    if (b.RoomId !== undefined) call.roomId = b.RoomId;
    if (b.CallerNick !== undefined) call.callerNick = b.CallerNick;
    // a repeated invitation of the same callees to the same call rings once
    const identity = messageIdentity(['call', b.From_Account, b.CallId, ...[...to].sort()]);
    const result = await deps.push.submit(caller.app.sdkAppId, {
      kind: 'call',
      from: b.From_Account,
      to,
      msgRandom: identity % 2 ** 32,
      dedupeKey: identity,
      info: await applyPushTemplate(deps.db, caller.app.sdkAppId, callPushInfo(b.OfflinePushInfo, call), { timSenderNick: call.callerNick ?? call.caller }),
      call,
      dataId: b.CallId,
      expireSeconds: b.Timeout,
      raw: body,
    });
    return withErrors({ PushID: result.taskId }, result.missing.map(notFound));
  },
};

const CancelCallBody = z.object({
  CallId: CallId,
  /** What replaces the invitation where a vendor overwrites (default: "Missed video call" from the caller). */
  OfflinePushInfo: OfflinePushInfo.optional(),
});

/**
 * `v4/timpush/cancel_call`, Herald's own: the caller hung up before anyone answered (or the call was
 * answered elsewhere). Every invitation of the call is recalled: callees online get a `revoke`
 * frame (the SDK's `callCancelled` event), those who have not fetched it never will, and vendors
 * withdraw or overwrite the notification with a missed call (APNs VoIP: a cancelling VoIP push).
 */
export const cancelCallCommand: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(CancelCallBody, body);
    const appId = caller.app.sdkAppId;
    const found = await tasks.findCallTasks(deps.db, appId, b.CallId);
    if (found.length === 0) throw new TimError(TimCode.noSuchTask, `no call with CallId ${b.CallId}`);
    const cancelled: string[] = [];
    for (const task of found) {
      if (task.status === 'revoked') continue;
      const call = (JSON.parse(task.message) as StoredMessage).call!;
      const r = await revokeTask(deps.revoke, appId, task.task_id, missedCallInfo(b.OfflinePushInfo, call));
      if (r.ok) cancelled.push(task.task_id);
    }
    if (cancelled.length === 0) throw new TimError(TimCode.alreadyRecalled, 'this call was already cancelled');
    return { PushIDs: cancelled };
  },
};
