import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Insertable } from 'kysely';
import type { Database, InboxTable } from './schema.js';
import { chunks } from '../util/chunks.js';
import { groupBy } from '../util/group-by.js';

export type InboxRow = Insertable<InboxTable>;

export async function insertInbox(tx: Transaction<Database> | Kysely<Database>, rows: readonly InboxRow[]): Promise<void> {
  for (const part of chunks(rows, 500)) await tx.insertInto('inbox').values(part).execute();
}

/**
 * Inserts rows, skipping any device that already has a row for the same task (a device reached by
 * both a fan-out page and its own catch-up). Returns the rows written, as registrationId → seq.
 */
export async function insertInboxOnce(tx: Transaction<Database>, rows: readonly InboxRow[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks(rows, 500)) {
    const written = await tx
      .insertInto('inbox')
      .values(part)
      .onConflict((oc) => oc.columns(['app_id', 'task_id', 'registration_id']).doNothing())
      .returning(['registration_id', 'seq'])
      .execute();
    for (const w of written) out.set(w.registration_id, Number(w.seq));
  }
  return out;
}

export const decidedKey = (taskId: string, registrationId: string) => `${taskId}\u0000${registrationId}`;

/** Which of these devices a task has already decided: an inbox row or a recorded loss. */
export async function decidedFor(db: Kysely<Database>, appId: number, taskIds: readonly string[], registrationIds: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (taskIds.length === 0 || registrationIds.length === 0) return out;
  for (const part of chunks(registrationIds, 500)) {
    const [rows, lost] = await Promise.all([
      db.selectFrom('inbox').select(['task_id', 'registration_id']).where('app_id', '=', appId).where('task_id', 'in', taskIds).where('registration_id', 'in', part).execute(),
      db.selectFrom('losses').select(['task_id', 'registration_id']).where('app_id', '=', appId).where('task_id', 'in', taskIds).where('registration_id', 'in', part).execute(),
    ]);
    for (const r of rows) out.add(decidedKey(r.task_id, r.registration_id));
    for (const r of lost) out.add(decidedKey(r.task_id, r.registration_id));
  }
  return out;
}

export interface DueMessage {
  app_id: number;
  registration_id: string;
  seq: number;
  task_id: string;
  message: string;
  locale: string | null;
}

/** Messages held for quiet hours whose time has come, with what is needed to render them. */
export async function dueDeferred(db: Kysely<Database>, now: number, limit: number): Promise<DueMessage[]> {
  return db
    .selectFrom('inbox')
    .innerJoin('tasks', (j) => j.onRef('tasks.app_id', '=', 'inbox.app_id').onRef('tasks.task_id', '=', 'inbox.task_id'))
    .innerJoin('devices', (j) => j.onRef('devices.app_id', '=', 'inbox.app_id').onRef('devices.registration_id', '=', 'inbox.registration_id'))
    .select(['inbox.app_id', 'inbox.registration_id', 'inbox.seq', 'inbox.task_id', 'tasks.message', 'devices.locale'])
    .where('inbox.deliver_after', '>', 0)
    .where('inbox.deliver_after', '<=', now)
    .where('inbox.acked_at', 'is', null)
    .limit(limit)
    .execute();
}

/** Marks held messages as released: they are delivered now and go out with the backlog from here on. */
export async function releaseDeferred(db: Kysely<Database>, rows: readonly { app_id: number; registration_id: string; seq: number }[]): Promise<void> {
  for (const [appId, list] of byApp(rows.map((r) => ({ appId: r.app_id, registrationId: r.registration_id, seq: r.seq })))) {
    for (const part of chunks(list, 400)) {
      await db.updateTable('inbox').set({ deliver_after: 0 }).where('app_id', '=', appId).where(keysIn(part)).execute();
    }
  }
}

/** Every device a task was put in the inbox of, and whether it has acked. */
export async function rowsOfTask(db: Kysely<Database> | Transaction<Database>, appId: number, taskId: string) {
  return db.selectFrom('inbox').select(['registration_id', 'seq', 'acked_at', 'vendor_sent', 'sent_at']).where('app_id', '=', appId).where('task_id', '=', taskId).execute();
}

/** Marks a recalled task's acked rows: those devices are told when they next connect. */
export async function markRecallPending(tx: Transaction<Database>, appId: number, taskId: string): Promise<void> {
  await tx.updateTable('inbox').set({ recall_pending: 1 }).where('app_id', '=', appId).where('task_id', '=', taskId).where('acked_at', 'is not', null).execute();
}

/** Devices that have been told about a recall. */
export async function clearRecallPending(db: Kysely<Database>, appId: number, taskId: string | null, registrationIds: readonly string[]): Promise<void> {
  for (const part of chunks(registrationIds, 500)) {
    let q = db.updateTable('inbox').set({ recall_pending: 0 }).where('app_id', '=', appId).where('registration_id', 'in', part).where('recall_pending', '=', 1);
    if (taskId !== null) q = q.where('task_id', '=', taskId);
    await q.execute();
  }
}

/** Recalls these devices have not been told about, as (device, task) pairs. */
export async function pendingRecalls(db: Kysely<Database>, appId: number, registrationIds: readonly string[]): Promise<{ registration_id: string; task_id: string }[]> {
  const out: { registration_id: string; task_id: string }[] = [];
  for (const part of chunks(registrationIds, 500)) {
    out.push(...(await db.selectFrom('inbox').select(['registration_id', 'task_id']).where('app_id', '=', appId).where('registration_id', 'in', part).where('recall_pending', '=', 1).execute()));
  }
  return out;
}

/** Removes a task's unacked rows (a recall); returns the rows removed. */
export async function deleteUnackedOfTask(tx: Transaction<Database>, appId: number, taskId: string): Promise<{ registration_id: string; sent_at: number | null }[]> {
  return tx.deleteFrom('inbox').where('app_id', '=', appId).where('task_id', '=', taskId).where('acked_at', 'is', null).returning(['registration_id', 'sent_at']).execute();
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
    .where('inbox.deliver_after', '<=', now)
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

const byApp = <T extends { appId: number }>(items: readonly T[]): Map<number, T[]> => groupBy(items, (it) => it.appId);

type Handled = { app_id: number; task_id: string; registration_id: string };

/** Sets `col` to now on the rows of these keys where it is still null; returns the rows it set (one statement per app and 400 keys). */
async function markFirst(db: Transaction<Database> | Kysely<Database>, col: 'acked_at' | 'sent_at', keys: readonly AckKey[], now: number): Promise<Handled[]> {
  const out: Handled[] = [];
  for (const [appId, list] of byApp(keys)) {
    const flat = list.flatMap((a) => a.seqs.map((seq) => ({ registrationId: a.registrationId, seq })));
    for (const part of chunks(flat, 400)) {
      const rows = await db.updateTable('inbox').set({ [col]: now }).where('app_id', '=', appId).where(col, 'is', null).where(keysIn(part)).returning(['app_id', 'task_id', 'registration_id']).execute();
      out.push(...rows.map((r) => ({ app_id: Number(r.app_id), task_id: r.task_id, registration_id: r.registration_id })));
    }
  }
  return out;
}

/** Marks messages reached; returns the rows acked for the first time. */
export function markAcked(db: Transaction<Database> | Kysely<Database>, acks: readonly AckKey[], now: number): Promise<Handled[]> {
  return markFirst(db, 'acked_at', acks, now);
}

/** Marks messages handed to a session; returns the rows handed over for the first time. */
export function markSent(db: Transaction<Database> | Kysely<Database>, keys: readonly AckKey[], now: number): Promise<Handled[]> {
  return markFirst(db, 'sent_at', keys, now);
}

/** Unacked rows past their expiry, to be recorded as losses and removed. */
export async function expiredUnacked(db: Kysely<Database>, now: number, limit: number) {
  return db
    .selectFrom('inbox')
    .select(['app_id', 'registration_id', 'seq', 'task_id', 'online_only', 'deliver_after', 'sent_at'])
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
  // Rows of unexpired messages stay: they record which devices a fan-out already reached.
  const r = await db.deleteFrom('inbox').where('acked_at', 'is not', null).where('acked_at', '<', before).where('expires_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** These devices were also sent the task through their vendors (a recall must reach them there). */
export async function markVendorSent(db: Kysely<Database>, appId: number, taskId: string, registrationIds: readonly string[]): Promise<void> {
  for (const part of chunks(registrationIds, 500)) {
    await db.updateTable('inbox').set({ vendor_sent: 1 }).where('app_id', '=', appId).where('task_id', '=', taskId).where('registration_id', 'in', part).execute();
  }
}

/** A device a push's routing may still owe: its row not acked, not handed to a session, not sent through a vendor. */
export interface UnroutedRow {
  registration_id: string;
  seq: number;
  user_id: string | null;
  locale: string | null;
}

/** A task's rows that no session or vendor has taken yet, with the device's user and language. */
export async function unroutedRowsOf(db: Kysely<Database>, appId: number, taskId: string): Promise<UnroutedRow[]> {
  const rows = await db
    .selectFrom('inbox')
    .innerJoin('devices', (j) => j.onRef('devices.app_id', '=', 'inbox.app_id').onRef('devices.registration_id', '=', 'inbox.registration_id'))
    .select(['inbox.registration_id', 'inbox.seq', 'devices.user_id', 'devices.locale'])
    .where('inbox.app_id', '=', appId)
    .where('inbox.task_id', '=', taskId)
    .where('inbox.acked_at', 'is', null)
    .where('inbox.sent_at', 'is', null)
    .where('inbox.vendor_sent', '=', 0)
    .execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
