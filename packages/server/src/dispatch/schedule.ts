import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/index.js';
import { sched } from '../store/index.js';
import type { SchedRow } from '../store/sched.js';

export interface SchedulerDeps {
  db: Kysely<Database>;
  /**
   * Sends a scheduled push's content as the push it describes and returns its TaskId. `onStored`
   * runs in the transaction that stores an all-users or tag task, so the schedule is marked
   * dispatched atomically with it.
   */
  fire(row: SchedRow, onStored: (tx: Transaction<Database>, taskId: string) => Promise<void>): Promise<string>;
  leaseMs: number;
  onError(err: unknown, context: string): void;
}

/** Tencent's SchedAt form: UTC `YYYY-MM-DD HH:MM:SS` (reference §2.6). */
export function parseSchedTime(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(s)) return undefined;
  const t = Date.parse(`${s.replace(' ', 'T')}Z`);
  return Number.isNaN(t) ? undefined : t;
}

export function formatSchedTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * Fires scheduled pushes when they are due, including those that fell due while Herald was down:
 * the schedule lives in the store, and a due task is claimed under a lease, so one process fires
 * it and a process that dies mid-dispatch leaves it for the next.
 */
export async function dispatchDue(deps: SchedulerDeps, now: number): Promise<void> {
  for (const row of await sched.dueScheds(deps.db, now, 20)) {
    if (!(await sched.claimSched(deps.db, row, now, deps.leaseMs))) continue;
    try {
      let marked = false;
      const taskId = await deps.fire(row, async (tx, id) => {
        await sched.markDispatched(tx, row.app_id, Number(row.sched_id), id);
        marked = true;
      });
      if (!marked) await sched.markDispatched(deps.db, row.app_id, Number(row.sched_id), taskId);
    } catch (err) {
      deps.onError(err, `scheduled push ${row.sched_id}`);
      await sched.markFailed(deps.db, row.app_id, Number(row.sched_id), err instanceof Error ? err.message : String(err));
    }
  }
}
