import type { Insertable, Kysely, Transaction } from 'kysely';
import type { ClicksTable, Database, LossesTable } from './schema.js';
import { chunks } from '../util/chunks.js';
import { sumCounts } from '../util/sum-counts.js';

export type LossRow = Insertable<LossesTable>;
export type ClickRow = ClicksTable;

type Db = Transaction<Database> | Kysely<Database>;

export interface LossCount {
  appId: number;
  taskId: string;
  code: number;
  stage: string;
  reason: string;
  count: number;
}

/** Adds to the per-task loss counters: one upsert per distinct (task, reason). */
export async function addLossCounts(tx: Db, counts: readonly LossCount[]): Promise<void> {
  for (const part of chunks(sumCounts(counts, (c) => `${c.appId}\u0000${c.taskId}\u0000${c.code}`), 200)) {
    await tx
      .insertInto('loss_counts')
      .values(part.map((c) => ({ app_id: c.appId, task_id: c.taskId, code: c.code, stage: c.stage, reason: c.reason, count: c.count })))
      .onConflict((oc) => oc.columns(['app_id', 'task_id', 'code']).doUpdateSet((eb) => ({ count: eb('loss_counts.count', '+', eb.ref('excluded.count')) })))
      .execute();
  }
}

/** Device-level losses, each also counted in its task's loss counters. */
export async function insertLosses(tx: Db, rows: readonly LossRow[]): Promise<void> {
  for (const part of chunks(rows, 500)) await tx.insertInto('losses').values(part).execute();
  await addLossCounts(
    tx,
    rows.map((r) => ({ appId: r.app_id, taskId: r.task_id, code: r.code, stage: r.stage, reason: r.reason, count: 1 })),
  );
}

/** Losses per reason of one task. */
export async function lossCounts(db: Db, appId: number, taskId: string): Promise<{ code: number; stage: string; reason: string; count: number }[]> {
  const rows = await db.selectFrom('loss_counts').select(['code', 'stage', 'reason', 'count']).where('app_id', '=', appId).where('task_id', '=', taskId).orderBy('code', 'desc').execute();
  return rows.map((r) => ({ ...r, code: Number(r.code), count: Number(r.count) }));
}

/** A click is kept once per (task, device); repeated reports are ignored. */
export async function insertClicks(db: Db, rows: readonly ClickRow[]): Promise<void> {
  for (const part of chunks(rows, 500)) {
    await db.insertInto('clicks').values(part).onConflict((oc) => oc.columns(['app_id', 'task_id', 'registration_id']).doNothing()).execute();
  }
}
