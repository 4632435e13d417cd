import type { Kysely, Transaction } from 'kysely';
import type { ClicksTable, Database, LossesTable } from './schema.js';
import { chunks } from '../util/chunks.js';

export type LossRow = LossesTable;
export type ClickRow = ClicksTable;

export async function insertLosses(tx: Transaction<Database> | Kysely<Database>, rows: readonly LossRow[]): Promise<void> {
  for (const part of chunks(rows, 500)) await tx.insertInto('losses').values(part).execute();
}

/** A click is kept once per (task, device); repeated reports are ignored. */
export async function insertClicks(db: Kysely<Database>, rows: readonly ClickRow[]): Promise<void> {
  for (const part of chunks(rows, 500)) {
    await db.insertInto('clicks').values(part).onConflict((oc) => oc.doNothing()).execute();
  }
}
