import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { Database, TaskShardsTable } from './schema.js';
import { chunks } from '../util/chunks.js';

type Db = Kysely<Database> | Transaction<Database>;
export type ShardRow = TaskShardsTable;

export class LeaseLost extends Error {
  constructor(taskId: string, shard: number) {
    super(`lease on shard ${shard} of ${taskId} was lost`);
  }
}

/**
 * Cuts a task's audience into shards of registration_id ranges and stores the audience size, once:
 * if another process got there first, the shards it stored stand and this returns false.
 */
export async function createShards(db: Kysely<Database>, appId: number, taskId: string, bounds: readonly string[], audienceSize: number): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const r = await tx
      .updateTable('tasks')
      .set({ target_count: audienceSize })
      .where('app_id', '=', appId)
      .where('task_id', '=', taskId)
      .where('status', '=', 'resolving')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return false;
    const rows = bounds.map((lo, i) => ({ app_id: appId, task_id: taskId, shard: i, lo, hi: bounds[i + 1] ?? null, cursor: null, status: 'pending', lease_owner: null, lease_until: null, processed: 0 }));
    for (const part of chunks(rows, 200)) await tx.insertInto('task_shards').values(part).execute();
    await tx.updateTable('tasks').set({ status: 'sending' }).where('app_id', '=', appId).where('task_id', '=', taskId).execute();
    return true;
  });
}

/**
 * Takes the lease on one pending shard of a task whose lease is free or expired; undefined if none.
 * `owner` is unique per claim, so a holder whose lease lapsed cannot write after a new claim, even
 * in the same process.
 */
export async function claimShard(db: Kysely<Database>, appId: number, taskId: string, owner: string, now: number, leaseMs: number): Promise<ShardRow | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const free = await db
      .selectFrom('task_shards')
      .selectAll()
      .where('app_id', '=', appId)
      .where('task_id', '=', taskId)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('shard')
      .limit(1)
      .executeTakeFirst();
    if (!free) return undefined;
    // Compare-and-set on the lease seen: two processes cannot both take it.
    const r = await db
      .updateTable('task_shards')
      .set({ lease_owner: owner, lease_until: now + leaseMs })
      .where('app_id', '=', appId)
      .where('task_id', '=', taskId)
      .where('shard', '=', free.shard)
      .where('status', '=', 'pending')
      .where((eb) => (free.lease_until === null ? eb('lease_until', 'is', null) : eb('lease_until', '=', free.lease_until)))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return { ...free, lease_owner: owner, lease_until: now + leaseMs };
  }
  return undefined;
}

/** The shard's row while the claim `s` still holds it. */
const stillHeld = (s: ShardRow) => (eb: ExpressionBuilder<Database, 'task_shards'>) =>
  eb.and([eb('app_id', '=', s.app_id), eb('task_id', '=', s.task_id), eb('shard', '=', s.shard), eb('lease_owner', '=', s.lease_owner), eb('status', '=', 'pending')]);

/**
 * Records progress inside the page's transaction, renewing the lease; throws LeaseLost if another
 * process took the shard meanwhile, which rolls the page back.
 */
export async function advanceShard(tx: Transaction<Database>, s: ShardRow, cursor: string | null, processed: number, done: boolean, now: number, leaseMs: number): Promise<void> {
  const r = await tx
    .updateTable('task_shards')
    .set((eb) => ({ cursor, processed: eb('processed', '+', processed), status: done ? 'done' : 'pending', lease_until: now + leaseMs }))
    .where(stillHeld(s))
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new LeaseLost(s.task_id, s.shard);
}

/** Extends a shard's lease while its holder waits on slow work (vendor sends); false if another holder took it. */
export async function renewShardLease(db: Kysely<Database>, s: ShardRow, now: number, leaseMs: number): Promise<boolean> {
  const r = await db.updateTable('task_shards').set({ lease_until: now + leaseMs }).where(stillHeld(s)).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Frees the lease of a shard still held by this claim, so the next claim need not wait for it to lapse. */
export async function releaseShard(db: Kysely<Database>, s: ShardRow): Promise<void> {
  await db.updateTable('task_shards').set({ lease_until: null }).where(stillHeld(s)).execute();
}

export interface ShardProgress {
  shards: number;
  done: number;
  processed: number;
}

export async function progress(db: Db, appId: number, taskId: string): Promise<ShardProgress> {
  const r = await db
    .selectFrom('task_shards')
    .select((eb) => [
      eb.fn.countAll<number>().as('shards'),
      eb.fn.sum<number>(sql`case when status = 'done' then 1 else 0 end`).as('done'),
      eb.fn.sum<number>('processed').as('processed'),
    ])
    .where('app_id', '=', appId)
    .where('task_id', '=', taskId)
    .executeTakeFirstOrThrow();
  return { shards: Number(r.shards), done: Number(r.done ?? 0), processed: Number(r.processed ?? 0) };
}
