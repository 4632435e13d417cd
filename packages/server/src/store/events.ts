import type { Insertable, Kysely, Transaction } from 'kysely';
import type { ClicksTable, Database, LossesTable } from './schema.js';
import { chunks } from '../util/chunks.js';

export type LossRow = Insertable<LossesTable>;
export type ClickRow = ClicksTable;

type Db = Transaction<Database> | Kysely<Database>;

/** Device-level losses (counted by the caller through the stats recorder). */
export async function insertLosses(tx: Db, rows: readonly LossRow[]): Promise<void> {
  for (const part of chunks(rows, 500)) await tx.insertInto('losses').values(part).execute();
}

/** A click is kept once per (task, device); repeated reports are ignored. Returns the clicks new here. */
export async function insertClicks(db: Db, rows: readonly ClickRow[]): Promise<{ app_id: number; task_id: string; registration_id: string }[]> {
  const out: { app_id: number; task_id: string; registration_id: string }[] = [];
  for (const part of chunks(rows, 500)) {
    const added = await db.insertInto('clicks').values(part).onConflict((oc) => oc.columns(['app_id', 'task_id', 'registration_id']).doNothing()).returning(['app_id', 'task_id', 'registration_id']).execute();
    out.push(...added.map((r) => ({ ...r, app_id: Number(r.app_id) })));
  }
  return out;
}
