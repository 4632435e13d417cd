import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { dailyPushes, events, inbox } from '../store/index.js';
import { LossReason } from '../stats/loss-reasons.js';
import { EventType } from '../stats/platforms.js';
import { lossEntries, type StatsRecorder } from '../stats/recorder.js';
import { groupBy } from '../util/group-by.js';

/** Why an unacked row expired: never handed to a session (held for quiet hours, or the device stayed away), or sent and never acked. */
function expiryLoss(r: { deliver_after: number; sent_at: number | null }) {
  if (r.sent_at !== null) return LossReason.expired;
  return Number(r.deliver_after) > 0 ? LossReason.quietHours : LossReason.expiredOffline;
}

const PAGE = 1000;

/**
 * Removes inbox messages that expired before the device acked them, recording each as a loss,
 * and prunes acked rows older than the retention period. Runs in pages of 1,000 rows.
 */
export async function sweepExpired(db: Kysely<Database>, stats: StatsRecorder, now: number, retentionMs: number): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await inbox.expiredUnacked(db, now, PAGE);
    if (rows.length === 0) break;
    const owners = await ownersOf(db, rows);
    await db.transaction().execute(async (tx) => {
      await events.insertLosses(
        tx,
        rows.map((r) => ({ r, loss: expiryLoss(r) })).map(({ r, loss }) => ({
          app_id: r.app_id,
          task_id: r.task_id,
          registration_id: r.registration_id,
          user_id: owners.get(`${r.app_id}:${r.registration_id}`) ?? null,
          stage: loss.stage,
          code: loss.code,
          reason: loss.reason,
          created_at: now,
        })),
      );
      // the rows were counted sendable when written; only their loss is new
      const lost = [...groupBy(rows, (r) => `${r.app_id}\u0000${r.task_id}\u0000${expiryLoss(r).code}`).values()].flatMap((list) =>
        lossEntries(
          { appId: list[0]!.app_id, taskId: list[0]!.task_id, eventType: EventType.online, at: now },
          expiryLoss(list[0]!),
          { devices: list.map((r) => ({ registrationId: r.registration_id, userId: owners.get(`${r.app_id}:${r.registration_id}`) ?? null, platform: 0 })) },
          false,
        ),
      );
      await stats.write(tx, lost);
      await inbox.deleteInboxRows(tx, rows);
    });
    total += rows.length;
    if (rows.length < PAGE) break;
  }
  await inbox.pruneAcked(db, now - retentionMs);
  // Daily-cap records older than two days cannot be anyone's today.
  await dailyPushes.pruneBefore(db, new Date(now - 2 * 86400_000).toISOString().slice(0, 10));
  return total;
}

async function ownersOf(db: Kysely<Database>, rows: readonly { app_id: number; registration_id: string }[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const byApp = new Map<number, Set<string>>();
  for (const r of rows) {
    let s = byApp.get(r.app_id);
    if (!s) byApp.set(r.app_id, (s = new Set()));
    s.add(r.registration_id);
  }
  for (const [appId, ids] of byApp) {
    const found = await db
      .selectFrom('devices')
      .select(['registration_id', 'user_id'])
      .where('app_id', '=', appId)
      .where('registration_id', 'in', [...ids])
      .where('user_id', 'is not', null)
      .execute();
    for (const d of found) out.set(`${appId}:${d.registration_id}`, d.user_id!);
  }
  return out;
}
