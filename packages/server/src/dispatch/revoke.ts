import type { Kysely } from 'kysely';
import type { OfflineChannels } from '../channels/index.js';
import type { Router } from '../cluster/index.js';
import { revokeFrame } from '../gateway/index.js';
import type { Database } from '../store/index.js';
import { events, inbox, tasks } from '../store/index.js';
import { LossReason } from '../stats/loss-reasons.js';
import { EventType } from '../stats/platforms.js';
import { lossEntries, type StatsRecorder } from '../stats/recorder.js';
import { countAudience, type Audience } from './audience.js';

export interface RevokeDeps {
  db: Kysely<Database>;
  stats: StatsRecorder;
  router: Router;
  offline: OfflineChannels;
}

/** Tencent: a push can be recalled within 24 hours of its start (reference §2.3, trtc.io/document/67824). */
export const RECALL_WINDOW_MS = 24 * 3600_000;

export type RevokeOutcome =
  | { ok: true; recalled: number; notified: number }
  | { ok: false; reason: 'no_such_task' | 'already_recalled' | 'window_passed' };

const RECALLABLE = [...tasks.LIVE_BROADCAST, 'expired', 'failed', 'accepted', 'routed'];

/** The size of a stored audience now, or undefined if it cannot be evaluated. */
async function unresolvedCount(db: Kysely<Database>, appId: number, audience: string): Promise<number | undefined> {
  try {
    return await countAudience(db, appId, JSON.parse(audience) as Audience);
  } catch {
    return undefined;
  }
}

/**
 * Recalls a push: the task stops sending, its unacked inbox rows go (so devices that connect later
 * never see it), devices that already got it are sent a `revoke` frame, and the vendors are asked to
 * withdraw what they showed. Every targeted device not yet reached is counted as recalled.
 */
export async function revokeTask(deps: RevokeDeps, appId: number, taskId: string, info: Record<string, unknown> | undefined, now = Date.now()): Promise<RevokeOutcome> {
  const { db } = deps;
  const task = await tasks.findTask(db, appId, taskId);
  if (!task) return { ok: false, reason: 'no_such_task' };
  if (task.status === 'revoked') return { ok: false, reason: 'already_recalled' };
  if (now - Number(task.created_at) > RECALL_WINDOW_MS) return { ok: false, reason: 'window_passed' };
  // A task recalled before its audience was resolved still counts its whole audience; one whose
  // audience cannot be counted (a broken stored task) is recalled all the same.
  const unresolvedAudience = task.status === 'resolving' && task.audience ? await unresolvedCount(db, appId, task.audience) : undefined;

  const result = await db.transaction().execute(async (tx) => {
    if (!(await tasks.transition(tx, appId, taskId, RECALLABLE, 'revoked', { revoked_at: now }))) return null;
    const rows = await inbox.rowsOfTask(tx, appId, taskId);
    // the rows actually removed: an ack committed meanwhile keeps its row, and is not a loss
    const gone = await inbox.deleteUnackedOfTask(tx, appId, taskId);
    await inbox.markRecallPending(tx, appId, taskId);
    const r = LossReason.recalled;
    let neverSent = 0;
    if (task.audience !== null && task.status !== 'expired' && task.status !== 'failed') {
      // Devices the fan-out had not reached yet (those of a push that expired or failed are already counted).
      const t = await tx.selectFrom('tasks').select(['target_count', 'materialized', 'dropped']).where('app_id', '=', appId).where('task_id', '=', taskId).executeTakeFirstOrThrow();
      neverSent = Math.max(0, (unresolvedAudience ?? Number(t.target_count)) - Number(t.materialized) - Number(t.dropped));
    }
    // On the gateway channel: rows never handed to a session are lost before sending, rows sent
    // and not acked after it; audience devices the fan-out had not reached were never counted.
    const unsent = gone.filter((x) => x.sent_at === null).map((x) => ({ registrationId: x.registration_id, platform: 0 }));
    const sentOnly = gone.filter((x) => x.sent_at !== null).map((x) => ({ registrationId: x.registration_id, platform: 0 }));
    const base = { appId, taskId, eventType: EventType.online, at: now };
    await deps.stats.write(tx, [
      ...lossEntries(base, r, { devices: unsent }, false),
      ...lossEntries(base, LossReason.recalledAfterSend, { devices: sentOnly }, false),
      ...lossEntries(base, r, { count: neverSent, platform: 0 }, true),
    ]);
    if (task.audience === null) {
      // Single and batch pushes keep a loss row per device.
      await events.insertLosses(tx, [
        ...gone.filter((x) => x.sent_at === null).map((x) => ({ app_id: appId, task_id: taskId, registration_id: x.registration_id, user_id: null, stage: r.stage, code: r.code, reason: r.reason, created_at: now })),
        ...gone.filter((x) => x.sent_at !== null).map((x) => ({ app_id: appId, task_id: taskId, registration_id: x.registration_id, user_id: null, stage: LossReason.recalledAfterSend.stage, code: LossReason.recalledAfterSend.code, reason: LossReason.recalledAfterSend.reason, created_at: now })),
      ]);
    }
    return { rows, recalled: gone.length + neverSent };
  });
  if (!result) return { ok: false, reason: 'already_recalled' };

  // Every device that was handed the message may be showing it: tell the connected ones now; the
  // others that had acked it are told when they connect (catch-up.ts).
  const ids = result.rows.map((x) => x.registration_id);
  await deps.router.broadcastControl(appId, ids, revokeFrame(taskId));
  const connected = await deps.router.online(appId, result.rows.filter((x) => x.acked_at !== null).map((x) => x.registration_id));
  await inbox.clearRecallPending(db, appId, taskId, [...connected]);
  const vendorSent = task.audience === null ? result.rows.filter((x) => Number(x.vendor_sent) === 1).map((x) => x.registration_id) : undefined;
  await deps.offline.recall?.({ appId, taskId, info, vendorSent });
  return { ok: true, recalled: result.recalled, notified: ids.length };
}
