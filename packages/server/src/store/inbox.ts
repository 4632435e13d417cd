import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database, InboxTable } from './schema.js';
import { chunks } from '../util/chunks.js';

export type InboxRow = InboxTable;

export async function insertInbox(tx: Transaction<Database> | Kysely<Database>, rows: readonly InboxRow[]): Promise<void> {
  for (const part of chunks(rows, 500)) await tx.insertInto('inbox').values(part).execute();
}

export interface PendingMessage {
  seq: number;
  task_id: string;
  message: string;
}

/** Unacked, unexpired messages of one device after `afterSeq`, oldest first, with their task's message. */
export async function pendingFor(db: Kysely<Database>, appId: number, registrationId: string, now: number, afterSeq: number, limit: number): Promise<PendingMessage[]> {
  return db
    .selectFrom('inbox')
    .innerJoin('tasks', (j) => j.onRef('tasks.app_id', '=', 'inbox.app_id').onRef('tasks.task_id', '=', 'inbox.task_id'))
    .select(['inbox.seq', 'inbox.task_id', 'tasks.message'])
    .where('inbox.app_id', '=', appId)
    .where('inbox.registration_id', '=', registrationId)
    .where('inbox.seq', '>', afterSeq)
    .where('inbox.acked_at', 'is', null)
    .where('inbox.expires_at', '>', now)
    .orderBy('inbox.seq')
    .limit(limit)
    .execute();
}

export interface AckKey {
  appId: number;
  registrationId: string;
  seqs: number[];
}

/**
 * `(registration_id, seq) IN (VALUES …)`: one index seek per key on both dialects (an OR of ANDs
 * makes SQLite scan the whole app). The CAST types the seq parameters for PostgreSQL.
 */
function keysIn(keys: readonly { registrationId: string; seq: number }[]): RawBuilder<boolean> {
  return sql<boolean>`(registration_id, seq) in (values ${sql.join(keys.map((k) => sql`(${k.registrationId}, cast(${k.seq} as bigint))`))})`;
}

function byApp<T extends { appId: number }>(items: readonly T[]): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const it of items) {
    const list = out.get(it.appId);
    if (list) list.push(it);
    else out.set(it.appId, [it]);
  }
  return out;
}

/** Marks many devices' messages reached: one statement per app and 400 keys. */
export async function markAcked(db: Kysely<Database>, acks: readonly AckKey[], now: number): Promise<void> {
  for (const [appId, list] of byApp(acks)) {
    const keys = list.flatMap((a) => a.seqs.map((seq) => ({ registrationId: a.registrationId, seq })));
    for (const part of chunks(keys, 400)) {
      await db.updateTable('inbox').set({ acked_at: now }).where('app_id', '=', appId).where('acked_at', 'is', null).where(keysIn(part)).execute();
    }
  }
}

/** Unacked rows past their expiry, to be recorded as losses and removed. */
export async function expiredUnacked(db: Kysely<Database>, now: number, limit: number) {
  return db
    .selectFrom('inbox')
    .select(['app_id', 'registration_id', 'seq', 'task_id', 'online_only'])
    .where('expires_at', '<=', now)
    .where('acked_at', 'is', null)
    .limit(limit)
    .execute();
}

export async function deleteInboxRows(tx: Transaction<Database> | Kysely<Database>, rows: readonly { app_id: number; registration_id: string; seq: number }[]): Promise<void> {
  for (const [appId, list] of byApp(rows.map((r) => ({ appId: r.app_id, registrationId: r.registration_id, seq: r.seq })))) {
    for (const part of chunks(list, 400)) {
      await tx.deleteFrom('inbox').where('app_id', '=', appId).where(keysIn(part)).execute();
    }
  }
}

/** Acked rows older than the retention period carry no more work. */
export async function pruneAcked(db: Kysely<Database>, before: number): Promise<number> {
  const r = await db.deleteFrom('inbox').where('acked_at', 'is not', null).where('acked_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
