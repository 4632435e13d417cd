import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { yieldToLoop } from '../util/yield.js';

/**
 * Deletes for the retention (stats/retention.ts). Every statement removes a bounded number of
 * rows, so a push to millions of devices is pruned in many short statements rather than one that
 * holds the store's write lock for minutes.
 */

/** Task statuses that no longer change: all-users and tag pushes closed by expiry, recall or failure, and single and batch pushes. */
const SETTLED = ['expired', 'revoked', 'failed', 'accepted', 'routed'];

export interface PrunableTask {
  app_id: number;
  task_id: string;
  msg_random: number;
}

/**
 * The oldest tasks created and expired before `cutoff` that no longer send, across apps. A task
 * still resolving, sending or done (offline devices may still catch up) is never among them.
 */
export async function prunableTasks(db: Kysely<Database>, cutoff: number, limit: number): Promise<PrunableTask[]> {
  return db
    .selectFrom('tasks')
    .select(['app_id', 'task_id', 'msg_random'])
    .where('status', 'in', SETTLED)
    .where('created_at', '<', cutoff)
    .where('expires_at', '<', cutoff)
    .orderBy('created_at')
    .limit(limit)
    .execute();
}

/** Tables with rows per device of a task, and a column that splits a task's rows into batches. */
const PER_DEVICE = [
  ['inbox', 'registration_id'],
  ['losses', 'registration_id'],
  ['clicks', 'registration_id'],
  ['daily_pushes', 'account'],
  ['stat_counters', 'hour'],
  ['trace_events', 'registration_id'],
] as const satisfies readonly (readonly [keyof Database, string])[];

/** Tables with a few rows per task. */
const PER_TASK = ['task_shards', 'loss_counts', 'vendor_counts'] as const satisfies readonly (keyof Database)[];

/**
 * Removes tasks of one app and every row kept for them. The task rows go last, so a prune that is
 * interrupted leaves them to be found, and finished, by the next.
 */
export async function deleteTasks(db: Kysely<Database>, appId: number, list: readonly PrunableTask[], batch: number): Promise<void> {
  if (list.length === 0) return;
  const ids = list.map((t) => t.task_id);
  const idList = sql.join(ids);
  for (const [table, key] of PER_DEVICE) {
    const t = sql.table(table);
    const k = sql.ref(key);
    for (;;) {
      const r = await sql`delete from ${t} where app_id = ${appId} and (task_id, ${k}) in (select task_id, ${k} from ${t} where app_id = ${appId} and task_id in (${idList}) limit ${batch})`.execute(db);
      // fewer than a batch: the subquery had every remaining row
      if (Number(r.numAffectedRows ?? 0) < batch) break;
      await yieldToLoop();
    }
  }
  for (const table of PER_TASK) await db.deleteFrom(table).where('app_id', '=', appId).where('task_id', 'in', ids).execute();
  // MsgRandom claims by their key; a newer task may hold the same number by now
  await db
    .deleteFrom('msg_randoms')
    .where('app_id', '=', appId)
    .where('kind', 'in', ['push', 'batch', 'chat', 'call'])
    .where('msg_random', 'in', list.map((t) => t.msg_random))
    .where('task_id', 'in', ids)
    .execute();
  await db.deleteFrom('tasks').where('app_id', '=', appId).where('task_id', 'in', ids).execute();
}

/** Up to `batch` schedules that fired (or failed) and were made and due before `cutoff`; returns how many went. */
export async function deleteOldSchedules(db: Kysely<Database>, cutoff: number, batch: number): Promise<number> {
  const r = await db
    .deleteFrom('sched_tasks')
    .where(({ eb, refTuple, selectFrom }) =>
      eb(
        refTuple('app_id', 'sched_id'),
        'in',
        selectFrom('sched_tasks').select(['app_id', 'sched_id']).where('status', 'in', ['dispatched', 'failed']).where('created_at', '<', cutoff).where('sched_at', '<', cutoff).limit(batch).$asTuple('app_id', 'sched_id'),
      ),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** About `batch` trace rows written before `cutoff`, oldest first (all of the last millisecond taken); returns how many went. */
export async function deleteOldTraceEvents(db: Kysely<Database>, cutoff: number, batch: number): Promise<number> {
  const nth = await db.selectFrom('trace_events').select('at').where('at', '<', cutoff).orderBy('at').limit(1).offset(batch - 1).executeTakeFirst();
  const q = db.deleteFrom('trace_events');
  const r = await (nth ? q.where('at', '<=', Number(nth.at)) : q.where('at', '<', cutoff)).executeTakeFirst();
  return Number(r.numDeletedRows);
}
