import { sql, type Expression, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { Database, SchedTasksTable, TasksTable } from './schema.js';

/**
 * Reads for the push records (stats/push-records.ts): pushes from `tasks` and scheduled pushes not
 * yet fired from `sched_tasks`, newest first, one page at a time from a position.
 */

/** Where a page starts: just after this record, in the order created_at desc, pushes before schedules, id desc. */
export type RecordPosition = { at: number; source: 'task'; id: string } | { at: number; source: 'sched'; id: number };

export interface RecordFilter {
  /** created_at bounds, epoch ms, inclusive. */
  since?: number;
  until?: number;
  /** Task kinds (all, tag, batch, chat, call); absent = every kind. */
  kinds?: readonly string[];
  /** Only pushes that came from a schedule. */
  scheduledOnly?: boolean;
  /** One push's TaskId, or a scheduled TaskID (digits). */
  taskId?: string;
  /** Text the title or text contains, case-insensitively. */
  search?: string;
}

/** A scheduled task's Type for each task kind. */
const SCHED_TYPE: Readonly<Record<string, string>> = { all: 'All', tag: 'Tag', batch: 'User' };

/** `%text%` for LIKE … ESCAPE '\', with LIKE's wildcards taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** lower() on both sides, so each dialect folds case its own way on both. */
function containsIgnoringCase(column: string, pattern: string): Expression<SqlBool> {
  return sql<SqlBool>`lower(${sql.ref(column)}) like lower(${pattern}) escape '\\'`;
}

const schedId = (s: string | undefined) => (s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : undefined);

export type TaskRecordRow = Selectable<TasksTable>;

/** Up to `limit` pushes after `from`, newest first; `search` narrows them by the stored message JSON. */
export async function taskRecords(db: Kysely<Database>, appId: number, f: RecordFilter, from: RecordPosition | undefined, limit: number): Promise<TaskRecordRow[]> {
  let q = db.selectFrom('tasks').selectAll().where('app_id', '=', appId);
  if (f.since !== undefined) q = q.where('created_at', '>=', f.since);
  if (f.until !== undefined) q = q.where('created_at', '<=', f.until);
  if (f.kinds) q = q.where('kind', 'in', [...f.kinds]);
  const fromSchedule = db.selectFrom('sched_tasks').select('push_task_id').where('app_id', '=', appId).where('status', '=', 'dispatched');
  if (f.scheduledOnly) q = q.where('task_id', 'in', fromSchedule);
  if (f.taskId !== undefined) {
    const id = schedId(f.taskId);
    const taskId = f.taskId;
    q = q.where((eb) => (id === undefined ? eb('task_id', '=', taskId) : eb.or([eb('task_id', '=', taskId), eb('task_id', 'in', fromSchedule.where('sched_id', '=', id))])));
  }
  // The message is stored as JSON: the text is looked for as JSON writes it (quotes and
  // backslashes escaped); the caller drops rows where it only matched outside the title and text.
  if (f.search) q = q.where(containsIgnoringCase('message', containsPattern(JSON.stringify(f.search).slice(1, -1))));
  if (from) {
    const at = from.at;
    if (from.source === 'task') {
      const id = from.id;
      q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('task_id', '<', id)])]));
    } else q = q.where('created_at', '<', at);
  }
  return q.orderBy('created_at', 'desc').orderBy('task_id', 'desc').limit(limit).execute();
}

export type SchedRecordRow = Selectable<SchedTasksTable>;

/** Up to `limit` scheduled pushes that have not fired (pending, dispatching, failed) after `from`, newest first. */
export async function schedRecords(db: Kysely<Database>, appId: number, f: RecordFilter, from: RecordPosition | undefined, limit: number): Promise<SchedRecordRow[]> {
  let q = db.selectFrom('sched_tasks').selectAll().where('app_id', '=', appId).where('status', '<>', 'dispatched');
  if (f.since !== undefined) q = q.where('created_at', '>=', f.since);
  if (f.until !== undefined) q = q.where('created_at', '<=', f.until);
  if (f.kinds) q = q.where('type', 'in', f.kinds.map((k) => SCHED_TYPE[k] ?? k));
  if (f.taskId !== undefined) {
    const id = schedId(f.taskId);
    if (id === undefined) return [];
    q = q.where('sched_id', '=', id);
  }
  if (f.search) {
    const pattern = containsPattern(f.search);
    q = q.where((eb) => eb.or([containsIgnoringCase('title', pattern), containsIgnoringCase('description', pattern)]));
  }
  if (from) {
    const at = from.at;
    if (from.source === 'sched') {
      const id = from.id;
      q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('sched_id', '<', id)])]));
    } else q = q.where('created_at', '<=', at);
  }
  return q.orderBy('created_at', 'desc').orderBy('sched_id', 'desc').limit(limit).execute();
}

export interface ScheduleOf {
  schedId: number;
  schedAt: number;
}

/** The schedules these pushes were fired from, by TaskId. */
export async function schedulesOf(db: Kysely<Database>, appId: number, taskIds: readonly string[]): Promise<Map<string, ScheduleOf>> {
  const out = new Map<string, ScheduleOf>();
  if (taskIds.length === 0) return out;
  const rows = await db.selectFrom('sched_tasks').select(['sched_id', 'sched_at', 'push_task_id']).where('app_id', '=', appId).where('push_task_id', 'in', [...taskIds]).execute();
  for (const r of rows) out.set(r.push_task_id, { schedId: Number(r.sched_id), schedAt: Number(r.sched_at) });
  return out;
}

export interface ShardCounts {
  shards: number;
  done: number;
  processed: number;
}

/** Fan-out progress of many tasks in one query (shards.progress does one task). */
export async function shardCounts(db: Kysely<Database>, appId: number, taskIds: readonly string[]): Promise<Map<string, ShardCounts>> {
  const out = new Map<string, ShardCounts>();
  if (taskIds.length === 0) return out;
  const rows = await db
    .selectFrom('task_shards')
    .select((eb) => ['task_id', eb.fn.countAll<number>().as('shards'), eb.fn.sum<number>(sql`case when status = 'done' then 1 else 0 end`).as('done'), eb.fn.sum<number>('processed').as('processed')])
    .where('app_id', '=', appId)
    .where('task_id', 'in', [...taskIds])
    .groupBy('task_id')
    .execute();
  for (const r of rows) out.set(r.task_id, { shards: Number(r.shards), done: Number(r.done ?? 0), processed: Number(r.processed ?? 0) });
  return out;
}
