import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { CallbackOutboxTable, Database } from './schema.js';
import { chunks } from '../util/chunks.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A row as the sender holds it while posting it. */
export type OutboxRow = Pick<CallbackOutboxTable, 'id' | 'app_id' | 'command' | 'body' | 'event_count' | 'next_at' | 'created_at'> & { attempts: number; posted: number };

export type NewOutboxRow = Pick<CallbackOutboxTable, 'id' | 'app_id' | 'command' | 'body' | 'event_count' | 'created_at'>;

export async function insertRows(db: Db, rows: readonly NewOutboxRow[]): Promise<void> {
  for (const part of chunks(rows, 100)) {
    await db
      .insertInto('callback_outbox')
      .values(part.map((r) => ({ ...r, status: 'pending', attempts: 0, next_at: r.created_at, lease_owner: null, lease_until: null, last_error: null })))
      .execute();
  }
}

const leaseFree = (now: number) => (eb: ExpressionBuilder<Database, 'callback_outbox'>) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]);

/**
 * Takes the lease on up to `limit` of one app's due rows, oldest first. The lease condition is
 * checked again on each row as it is updated, so two processes never both take a row.
 */
export async function claimDue(db: Kysely<Database>, appId: number, owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
  // the ids from the claim index alone, then the rows by primary key: one statement that did both
  // scanned the app's whole index range for the update (several ms per claim with 10,000 rows)
  const ids = await db
    .selectFrom('callback_outbox')
    .select('id')
    .where('status', '=', 'pending')
    .where('app_id', '=', appId)
    .where('next_at', '<=', now)
    .where(leaseFree(now))
    .orderBy('next_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('callback_outbox')
    .set({ lease_owner: owner, lease_until: now + leaseMs })
    // by primary key alone: a status condition here made SQLite scan the claim index instead; a row
    // free of leases cannot have changed status meanwhile (only a lease holder marks a row dead)
    .where(
      'id',
      'in',
      ids.map((r) => r.id),
    )
    .where(leaseFree(now))
    .returning(['id', 'app_id', 'command', 'body', 'event_count', 'attempts', 'posted', 'next_at', 'created_at'])
    .execute();
  return rows.sort((a, b) => a.next_at - b.next_at || (a.id < b.id ? -1 : 1));
}

/** Each app with pending rows and the earliest time one of them is due. */
export async function pendingApps(db: Kysely<Database>): Promise<{ appId: number; due: number }[]> {
  const rows = await db
    .selectFrom('callback_outbox')
    .select((eb) => ['app_id', eb.fn.min('next_at').as('due')])
    .where('status', '=', 'pending')
    .groupBy('app_id')
    .execute();
  return rows.map((r) => ({ appId: Number(r.app_id), due: Number(r.due) }));
}

/** Delivered: the rows go, whoever holds them now. */
export async function remove(db: Kysely<Database>, ids: readonly string[]): Promise<void> {
  for (const part of chunks(ids, 500)) await db.deleteFrom('callback_outbox').where('id', 'in', part).execute();
}

/**
 * A failed attempt: tried again at `nextAt`, or kept as dead; `posted` events of the row were
 * delivered before the request that failed. Only the lease holder may write it.
 */
export async function failed(db: Kysely<Database>, id: string, owner: string, posted: number, attempts: number, error: string, next: { at: number } | 'dead'): Promise<void> {
  await db
    .updateTable('callback_outbox')
    .set({ posted, attempts, last_error: error.slice(0, 500), lease_owner: null, lease_until: null, ...(next === 'dead' ? { status: 'dead' } : { next_at: next.at }) })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Gives back every row this owner holds (on close), for anyone to take at once. */
export async function release(db: Kysely<Database>, owner: string): Promise<void> {
  await db.updateTable('callback_outbox').set({ lease_owner: null, lease_until: null }).where('lease_owner', '=', owner).execute();
}

/** Gives back one row, of which `posted` events are delivered, for anyone to go on with at once. */
export async function putBack(db: Kysely<Database>, id: string, owner: string, posted: number): Promise<void> {
  await db.updateTable('callback_outbox').set({ posted, lease_owner: null, lease_until: null }).where('id', '=', id).where('lease_owner', '=', owner).execute();
}

/** Makes the app's pending rows due now: its endpoint changed, so their back-off no longer says anything. */
export async function resumePending(db: Db, appId: number, now: number): Promise<void> {
  await db.updateTable('callback_outbox').set({ next_at: now }).where('status', '=', 'pending').where('app_id', '=', appId).where('next_at', '>', now).execute();
}

/**
 * Dead rows back in the queue with a fresh retry window (the bound is counted from created_at);
 * the number moved.
 */
export async function retryDead(db: Db, appId: number, now: number): Promise<number> {
  const r = await db.updateTable('callback_outbox').set({ status: 'pending', next_at: now, created_at: now, attempts: 0 }).where('status', '=', 'dead').where('app_id', '=', appId).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function dropDead(db: Db, appId: number): Promise<number> {
  const r = await db.deleteFrom('callback_outbox').where('status', '=', 'dead').where('app_id', '=', appId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export interface OutboxCounts {
  pending: number;
  dead: number;
  /** Events in those rows not delivered yet. */
  pendingEvents: number;
  deadEvents: number;
}

/** Rows and events waiting and dead, for one app or (no appId) the whole store. */
export async function counts(db: Db, appId?: number): Promise<OutboxCounts> {
  let q = db.selectFrom('callback_outbox').select((eb) => ['status', eb.fn.countAll<number>().as('rows'), eb.fn.sum<number>(eb('event_count', '-', eb.ref('posted'))).as('events')]);
  if (appId !== undefined) q = q.where('status', 'in', ['pending', 'dead']).where('app_id', '=', appId);
  const out: OutboxCounts = { pending: 0, dead: 0, pendingEvents: 0, deadEvents: 0 };
  for (const r of await q.groupBy('status').execute()) {
    if (r.status === 'pending') [out.pending, out.pendingEvents] = [Number(r.rows), Number(r.events ?? 0)];
    else if (r.status === 'dead') [out.dead, out.deadEvents] = [Number(r.rows), Number(r.events ?? 0)];
  }
  return out;
}

/** The error of the app's most recent failed attempt, if a row still carries one. */
export async function lastError(db: Db, appId: number): Promise<string | undefined> {
  const r = await db
    .selectFrom('callback_outbox')
    .select('last_error')
    .where('status', 'in', ['pending', 'dead'])
    .where('app_id', '=', appId)
    .where('last_error', 'is not', null)
    .orderBy('next_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r?.last_error ?? undefined;
}
