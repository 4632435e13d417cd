import type { Transaction } from 'kysely';
import type { Database } from '../store/index.js';
import { tasks } from '../store/index.js';
import type { LossReason } from '../stats/loss-reasons.js';
import { EventType } from '../stats/platforms.js';
import { lossEntries, type StatsRecorder } from '../stats/recorder.js';

/**
 * Ends a live all-users or tag push (expired, failed): moves it to `to` and counts the targeted
 * devices it never reached on the gateway channel as lost for `loss`. False if it was no longer live.
 */
export async function closeBroadcast(
  tx: Transaction<Database>,
  stats: StatsRecorder,
  key: { appId: number; taskId: string },
  to: string,
  loss: LossReason,
  now: number,
  extra: { fail_reason?: string } = {},
): Promise<boolean> {
  if (!(await tasks.transition(tx, key.appId, key.taskId, tasks.LIVE_BROADCAST, to, { finished_at: now, ...extra }))) return false;
  const t = await tx.selectFrom('tasks').select(['target_count', 'materialized', 'dropped']).where('app_id', '=', key.appId).where('task_id', '=', key.taskId).executeTakeFirstOrThrow();
  // audience devices with no inbox row and not counted lost: those that never connected while it lasted
  const never = Number(t.target_count) - Number(t.materialized) - Number(t.dropped);
  const base = { appId: key.appId, taskId: key.taskId, eventType: EventType.online, at: now };
  await stats.write(tx, lossEntries(base, loss, { count: Math.max(0, never), platform: 0 }, true));
  return true;
}
