import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, SchedTasksTable } from './schema.js';
import { nextId } from './app-counters.js';

type Db = Kysely<Database> | Transaction<Database>;
export type SchedRow = Selectable<SchedTasksTable>;

export interface NewSched {
  appId: number;
  type: string;
  schedAt: number;
  content: string;
  title: string;
  description: string;
}

/** Stores a scheduled push under the app's next TaskID (1, 2, …). */
export async function insertSched(db: Kysely<Database>, s: NewSched, now: number): Promise<number> {
  const id = await nextId(db, s.appId, 'sched_tasks');
  await db
    .insertInto('sched_tasks')
    .values({ app_id: s.appId, sched_id: id, type: s.type, sched_at: s.schedAt, content: s.content, title: s.title, description: s.description, status: 'pending', dispatch_success: 0, dispatch_err: '', push_task_id: '', lease_until: null, created_at: now })
    .execute();
  return id;
}

export async function findSched(db: Db, appId: number, id: number): Promise<SchedRow | undefined> {
  return db.selectFrom('sched_tasks').selectAll().where('app_id', '=', appId).where('sched_id', '=', id).executeTakeFirst();
}

/** Changes a pending task; false if it is not pending (any more). */
export async function updatePending(db: Db, appId: number, id: number, set: Partial<Pick<SchedRow, 'sched_at' | 'content' | 'title' | 'description'>>): Promise<boolean> {
  const r = await db.updateTable('sched_tasks').set(set).where('app_id', '=', appId).where('sched_id', '=', id).where('status', '=', 'pending').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function deletePending(db: Db, appId: number, id: number): Promise<boolean> {
  const r = await db.deleteFrom('sched_tasks').where('app_id', '=', appId).where('sched_id', '=', id).where('status', '=', 'pending').executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

export interface ListQuery {
  offset: number;
  want: number;
  orderBy: 'created_at' | 'sched_at';
  asc: boolean;
  begin?: number;
  end?: number;
  keyword?: string;
}

export async function listSched(db: Db, appId: number, q: ListQuery): Promise<{ total: number; rows: SchedRow[] }> {
  let base = db.selectFrom('sched_tasks').where('app_id', '=', appId);
  if (q.begin !== undefined) base = base.where(q.orderBy, '>=', q.begin);
  if (q.end !== undefined) base = base.where(q.orderBy, '<=', q.end);
  if (q.keyword) {
    const like = `%${q.keyword.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    base = base.where((eb) => eb.or([eb('title', 'like', sql<string>`${like} escape '\\'`), eb('description', 'like', sql<string>`${like} escape '\\'`)]));
  }
  const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await base.selectAll().orderBy(q.orderBy, q.asc ? 'asc' : 'desc').orderBy('sched_id', q.asc ? 'asc' : 'desc').limit(q.want).offset(q.offset).execute();
  return { total: Number(total.n), rows };
}

/** Scheduled pushes due now, and those whose dispatcher died (lease lapsed). */
export async function dueScheds(db: Db, now: number, limit: number): Promise<SchedRow[]> {
  return db
    .selectFrom('sched_tasks')
    .selectAll()
    .where((eb) => eb.or([eb.and([eb('status', '=', 'pending'), eb('sched_at', '<=', now)]), eb.and([eb('status', '=', 'dispatching'), eb('lease_until', '<', now)])]))
    .orderBy('sched_at')
    .limit(limit)
    .execute();
}

/** Takes a due task for dispatch; false if another process did. */
export async function claimSched(db: Db, row: SchedRow, now: number, leaseMs: number): Promise<boolean> {
  const r = await db
    .updateTable('sched_tasks')
    .set({ status: 'dispatching', lease_until: now + leaseMs })
    .where('app_id', '=', row.app_id)
    .where('sched_id', '=', row.sched_id)
    .where('status', '=', row.status)
    .where((eb) => (row.lease_until === null ? eb('lease_until', 'is', null) : eb('lease_until', '=', row.lease_until)))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markDispatched(db: Db, appId: number, id: number, pushTaskId: string): Promise<void> {
  await db.updateTable('sched_tasks').set({ status: 'dispatched', dispatch_success: 1, push_task_id: pushTaskId, dispatch_err: '', lease_until: null }).where('app_id', '=', appId).where('sched_id', '=', id).execute();
}

export async function markFailed(db: Db, appId: number, id: number, err: string): Promise<void> {
  await db.updateTable('sched_tasks').set({ status: 'failed', dispatch_success: 0, dispatch_err: err.slice(0, 500), lease_until: null }).where('app_id', '=', appId).where('sched_id', '=', id).execute();
}
