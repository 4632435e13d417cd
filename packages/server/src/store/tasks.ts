import { sql, type ExpressionBuilder, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import { chunks } from '../util/chunks.js';
import type { Database, TasksTable } from './schema.js';
import { groupBy } from '../util/group-by.js';

export type TaskRow = Insertable<TasksTable>;

export async function insertTasks(tx: Transaction<Database> | Kysely<Database>, rows: readonly TaskRow[]): Promise<void> {
  for (const part of chunks(rows, 100)) await tx.insertInto('tasks').values(part).execute();
}

/** Moves many tasks from one status to another in one statement per app. */
export async function setStatusMany(db: Kysely<Database>, keys: readonly { appId: number; taskId: string }[], from: string, to: string): Promise<void> {
  for (const [appId, list] of groupBy(keys, (k) => k.appId)) {
    const ids = list.map((k) => k.taskId);
    await db.updateTable('tasks').set({ status: to }).where('app_id', '=', appId).where('task_id', 'in', ids).where('status', '=', from).execute();
  }
}

export interface MsgRandomClaim {
  appId: number;
  kind: string;
  msgRandom: number;
  taskId: string;
}

const claimKey = (c: { app_id: number; kind: string; msg_random: number } ) => `${c.app_id}:${c.kind}:${c.msg_random}`;

/**
 * Claims (app, kind, MsgRandom) for new tasks, many at once (keys must be distinct). Returns, for
 * each claim lost to an earlier task within the window, that task's TaskId, keyed by claim. One
 * upsert, so two concurrent requests with the same MsgRandom cannot both win.
 */
export async function claimMsgRandoms(tx: Transaction<Database>, claims: readonly MsgRandomClaim[], now: number, windowMs: number): Promise<Map<MsgRandomClaim, string>> {
  const lost = new Map<MsgRandomClaim, string>();
  if (claims.length === 0) return lost;
  const cutoff = now - windowMs;
  const won = new Set<string>();
  for (const part of chunks(claims, 200)) {
    const rows = await tx
      .insertInto('msg_randoms')
      .values(part.map((c) => ({ app_id: c.appId, kind: c.kind, msg_random: c.msgRandom, task_id: c.taskId, created_at: now })))
      .onConflict((oc) =>
        oc
          .columns(['app_id', 'kind', 'msg_random'])
          .doUpdateSet((eb) => ({ task_id: eb.ref('excluded.task_id'), created_at: eb.ref('excluded.created_at') }))
          .where('msg_randoms.created_at', '<', cutoff),
      )
      .returning(['app_id', 'kind', 'msg_random'])
      .execute();
    for (const r of rows) won.add(claimKey(r));
  }
  const losers = claims.filter((c) => !won.has(claimKey({ app_id: c.appId, kind: c.kind, msg_random: c.msgRandom })));
  for (const c of losers) {
    const prior = await tx
      .selectFrom('msg_randoms')
      .select('task_id')
      .where('app_id', '=', c.appId)
      .where('kind', '=', c.kind)
      .where('msg_random', '=', c.msgRandom)
      .executeTakeFirstOrThrow();
    lost.set(c, prior.task_id);
  }
  return lost;
}

export async function findTask(db: Kysely<Database>, appId: number, taskId: string): Promise<Selectable<TasksTable> | undefined> {
  return db.selectFrom('tasks').selectAll().where('app_id', '=', appId).where('task_id', '=', taskId).executeTakeFirst();
}

/** The pushes of one call invitation (kind 'call', CallId in data_id), oldest first. */
export async function findCallTasks(db: Kysely<Database>, appId: number, callId: string): Promise<Selectable<TasksTable>[]> {
  return db.selectFrom('tasks').selectAll().where('app_id', '=', appId).where('kind', '=', 'call').where('data_id', '=', callId).orderBy('created_at').execute();
}

/** Statuses of an all-users or tag push whose message may still be delivered. */
export const LIVE_BROADCAST = ['resolving', 'sending', 'done'] as const;

const notWaiting = (now: number) => (eb: ExpressionBuilder<Database, 'tasks'>) => eb.or([eb('retry_at', 'is', null), eb('retry_at', '<=', now)]);

/**
 * Tasks with fan-out work to do and not waiting to retry: each app's `perApp` oldest, taken in
 * turns (every app's oldest first, then every app's second, …), so that no app's backlog hides
 * another app's push.
 */
export async function runnableBroadcasts(db: Kysely<Database>, now: number, perApp: number, limit: number): Promise<Selectable<TasksTable>[]> {
  const rows = await db
    .selectFrom((qb) =>
      qb
        .selectFrom('tasks')
        .selectAll()
        .select(sql<number>`row_number() over (partition by app_id order by created_at, task_id)`.as('turn'))
        .where('status', 'in', ['resolving', 'sending'])
        .where(notWaiting(now))
        .as('t'),
    )
    .selectAll()
    .where('turn', '<=', perApp)
    .orderBy('turn')
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map(({ turn: _, ...row }) => row);
}

/**
 * PushFlag 0 all-users and tag pushes of an app that a device registered at `since` may still
 * catch up with: unexpired, not recalled, created after the device.
 */
export async function catchUpCandidates(db: Kysely<Database>, appId: number, since: number, now: number): Promise<Selectable<TasksTable>[]> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('app_id', '=', appId)
    .where('expires_at', '>', now)
    .where('created_at', '>=', since)
    .where('status', 'in', [...LIVE_BROADCAST])
    .where('audience', 'is not', null)
    .where('push_flag', '=', 0)
    // one that just failed is left alone until it may be retried
    .where(notWaiting(now))
    .execute();
}

/**
 * Counts what a batch decided for a task, in the batch's transaction; false (nothing counted) when
 * the task may no longer send (recalled or expired), so the caller rolls the batch back.
 */
export async function countDecisions(tx: Transaction<Database>, appId: number, taskId: string, materialized: number, dropped: number): Promise<boolean> {
  const r = await tx
    .updateTable('tasks')
    .set((eb) => ({ materialized: eb('materialized', '+', materialized), dropped: eb('dropped', '+', dropped) }))
    .where('app_id', '=', appId)
    .where('task_id', '=', taskId)
    .where('status', 'in', [...LIVE_BROADCAST])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Live tasks past their expiry, to be closed and their never-reached devices counted. */
export async function expiredBroadcasts(db: Kysely<Database>, now: number, limit: number): Promise<Selectable<TasksTable>[]> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('status', 'in', [...LIVE_BROADCAST])
    .where('audience', 'is not', null)
    .where('expires_at', '<=', now)
    .limit(limit)
    .execute();
}

/**
 * Counts a failed attempt at a live task (in one of `statuses`: an all-users or tag push being
 * sent, by default): its reason, and no retry before `retryAt(attempts)`. Returns the attempts
 * failed so far, or undefined if the task is no longer in those statuses.
 */
export async function recordFailure(db: Kysely<Database>, appId: number, taskId: string, reason: string, retryAt: (attempts: number) => number, statuses: readonly string[] = LIVE_BROADCAST): Promise<number | undefined> {
  return db.transaction().execute(async (tx) => {
    const r = await tx
      .updateTable('tasks')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), fail_reason: reason }))
      .where('app_id', '=', appId)
      .where('task_id', '=', taskId)
      .where('status', 'in', [...statuses])
      .returning('attempts')
      .executeTakeFirst();
    if (!r) return undefined;
    const attempts = Number(r.attempts);
    await tx.updateTable('tasks').set({ retry_at: retryAt(attempts) }).where('app_id', '=', appId).where('task_id', '=', taskId).execute();
    return attempts;
  });
}

/** Moves one task between statuses; false if it was not in `from`. */
export async function transition(db: Kysely<Database> | Transaction<Database>, appId: number, taskId: string, from: readonly string[], to: string, extra: { finished_at?: number; revoked_at?: number; target_count?: number; fail_reason?: string } = {}): Promise<boolean> {
  const r = await db
    .updateTable('tasks')
    .set({ status: to, ...extra })
    .where('app_id', '=', appId)
    .where('task_id', '=', taskId)
    .where('status', 'in', [...from])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A single or batch push whose routing lost its process: still `accepted`, its lease lapsed. */
export interface UnroutedTask {
  app_id: number;
  task_id: string;
  lease_until: number | null;
}

/**
 * Single and batch pushes still `accepted` whose routing lease has lapsed (or that were stored
 * before pushes carried one), oldest first: their process died before handing them to every
 * session and vendor.
 */
export async function unroutedBatches(db: Kysely<Database>, now: number, limit: number): Promise<UnroutedTask[]> {
  const rows = await db
    .selectFrom('tasks')
    .select(['app_id', 'task_id', 'lease_until'])
    .where('status', '=', 'accepted')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .where(notWaiting(now))
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ app_id: Number(r.app_id), task_id: r.task_id, lease_until: r.lease_until === null ? null : Number(r.lease_until) }));
}

/** Takes over routing an unrouted push (compare-and-set on the lease seen, so one process wins); the row when taken. */
export async function claimUnrouted(db: Kysely<Database>, t: UnroutedTask, owner: string, now: number, leaseMs: number): Promise<Selectable<TasksTable> | undefined> {
  const r = await db
    .updateTable('tasks')
    .set({ lease_owner: owner, lease_until: now + leaseMs })
    .where('app_id', '=', t.app_id)
    .where('task_id', '=', t.task_id)
    .where('status', '=', 'accepted')
    .where((eb) => (t.lease_until === null ? eb('lease_until', 'is', null) : eb('lease_until', '=', t.lease_until)))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1 ? findTask(db, t.app_id, t.task_id) : undefined;
}

/** Extends the routing leases `owner` holds on these pushes (one statement per app). */
export async function renewRouteLeases(db: Kysely<Database>, owner: string, keys: readonly { appId: number; taskId: string }[], until: number): Promise<void> {
  for (const [appId, list] of groupBy(keys, (k) => k.appId)) {
    for (const part of chunks(list, 500)) {
      await db
        .updateTable('tasks')
        .set({ lease_until: until })
        .where('app_id', '=', appId)
        .where('task_id', 'in', part.map((k) => k.taskId))
        .where('status', '=', 'accepted')
        .where('lease_owner', '=', owner)
        .execute();
    }
  }
}
