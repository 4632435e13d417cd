import type { Kysely } from 'kysely';
import type { Delivery, Router } from '../cluster/index.js';
import type { OfflineChannels } from '../channels/index.js';
import type { Database } from '../store/index.js';
import { devices as deviceStore, events, inbox, tasks } from '../store/index.js';
import { LossReason } from '../stats/loss-reasons.js';
import { FrameRenderer, type StoredMessage } from './message.js';
import type { OfflinePushInfo } from './offline-push-info.js';
import { newTaskId } from './task-id.js';

export interface BatchPushRequest {
  from: string;
  to: readonly string[];
  msgRandom: number;
  info: OfflinePushInfo;
  dataId?: string;
  /** Herald extension: seconds the message may wait in an inbox (default from config). */
  expireSeconds?: number;
  /** The request as received, kept with the task. */
  raw: unknown;
}

export interface BatchPushResult {
  taskId: string;
  /** Accounts that matched no device (Tencent 70107). */
  missing: string[];
  /** True when MsgRandom repeated an earlier call in the window and nothing new was sent. */
  duplicate: boolean;
}

export interface BatchPushDeps {
  db: Kysely<Database>;
  router: Router;
  offline: OfflineChannels;
  defaultExpireSeconds: number;
  msgRandomWindowSeconds: number;
  /** Records that the task's frames were handed to the router (written in batches by the caller). */
  markRouted(appId: number, taskId: string): void;
  onError(err: unknown, context: string): void;
}

/**
 * Single and batch push by UserID or RegistrationID (`v4/timpush/batch`). The task, the inbox row of
 * every targeted device and every loss are written in one transaction before the TaskId is returned;
 * routing to live sessions happens after the commit.
 */
export async function batchPush(deps: BatchPushDeps, appId: number, req: BatchPushRequest, now = Date.now()): Promise<BatchPushResult> {
  const { db } = deps;
  const targets = await deviceStore.findTargets(db, appId, req.to);
  const matched = new Set<string>();
  for (const t of targets) {
    matched.add(t.registration_id);
    if (t.user_id !== null) matched.add(t.user_id);
  }
  const missing = [...new Set(req.to)].filter((a) => !matched.has(a));
  const onlineOnly = req.info.PushFlag === 1;
  const online = onlineOnly ? await deps.router.online(appId, targets.map((t) => t.registration_id)) : null;
  const reachable = online ? targets.filter((t) => online.has(t.registration_id)) : targets;
  const unreachable = online ? targets.filter((t) => !online.has(t.registration_id)) : [];

  const taskId = newTaskId('batch', appId, req.msgRandom, now);
  const expiresAt = now + (req.expireSeconds ?? deps.defaultExpireSeconds) * 1000;
  const message: StoredMessage = { from: req.from, sentAt: now, expiresAt, info: req.info };

  const outcome = await db.transaction().execute(async (tx) => {
    const prior = await tasks.claimMsgRandom(tx, { appId, kind: 'batch', msgRandom: req.msgRandom, taskId }, now, deps.msgRandomWindowSeconds * 1000);
    if (prior) return { prior };
    await tasks.insertTask(tx, {
      app_id: appId,
      task_id: taskId,
      kind: 'batch',
      status: 'accepted',
      msg_random: req.msgRandom,
      from_account: req.from,
      data_id: req.dataId ?? null,
      push_flag: req.info.PushFlag,
      message: JSON.stringify(message),
      request: JSON.stringify(req.raw),
      target_count: targets.length,
      created_at: now,
      expires_at: expiresAt,
    });
    const seqs = await deviceStore.allocateSeqs(tx, appId, reachable.map((t) => t.registration_id));
    await inbox.insertInbox(
      tx,
      reachable.flatMap((t) => {
        const seq = seqs.get(t.registration_id);
        // a device unregistered between lookup and now has no seq and needs no row
        return seq === undefined
          ? []
          : [{ app_id: appId, registration_id: t.registration_id, seq, task_id: taskId, online_only: onlineOnly ? 1 : 0, created_at: now, expires_at: expiresAt, acked_at: null }];
      }),
    );
    const loss = LossReason.offlineOnlineOnly;
    await events.insertLosses(
      tx,
      unreachable.map((t) => ({ app_id: appId, task_id: taskId, registration_id: t.registration_id, user_id: t.user_id, stage: loss.stage, code: loss.code, reason: loss.reason, created_at: now })),
    );
    return { seqs };
  });
  if ('prior' in outcome) return { taskId: outcome.prior!, missing, duplicate: true };

  const seqs = outcome.seqs;
  setImmediate(() => {
    route(deps, appId, taskId, message, reachable, seqs, onlineOnly).catch((err) => deps.onError(err, 'batch push routing'));
  });
  return { taskId, missing, duplicate: false };
}

async function route(
  deps: BatchPushDeps,
  appId: number,
  taskId: string,
  message: StoredMessage,
  targets: readonly deviceStore.TargetDevice[],
  seqs: Map<string, number>,
  onlineOnly: boolean,
): Promise<void> {
  const renderer = new FrameRenderer(taskId, message);
  const deliveries: Delivery[] = [];
  const withSeq: { t: deviceStore.TargetDevice; seq: number }[] = [];
  for (const t of targets) {
    const seq = seqs.get(t.registration_id);
    if (seq === undefined) continue;
    withSeq.push({ t, seq });
    deliveries.push({ registrationId: t.registration_id, seq, frame: renderer.frame(seq, t.locale) });
  }
  await deps.router.deliver(appId, deliveries);
  if (!onlineOnly && withSeq.length > 0) {
    const online = await deps.router.online(appId, withSeq.map((x) => x.t.registration_id));
    const offline = withSeq.filter((x) => !online.has(x.t.registration_id));
    if (offline.length > 0) {
      await deps.offline.sendOffline({
        appId,
        taskId,
        targets: offline.map((x) => ({ registrationId: x.t.registration_id, userId: x.t.user_id, locale: x.t.locale, seq: x.seq })),
      });
    }
  }
  deps.markRouted(appId, taskId);
}
