import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';
import { chunks } from '../util/chunks.js';
import { sumCounts } from '../util/sum-counts.js';

type Db = Transaction<Database> | Kysely<Database>;

export interface VendorCount {
  appId: number;
  taskId: string;
  vendor: string;
  outcome: 'sent' | 'reached';
  count: number;
}

/** Adds to the per-task vendor counters: one upsert per distinct (task, vendor, outcome). */
export async function addVendorCounts(db: Db, counts: readonly VendorCount[]): Promise<void> {
  for (const part of chunks(sumCounts(counts, (c) => `${c.appId}\u0000${c.taskId}\u0000${c.vendor}\u0000${c.outcome}`), 200)) {
    await db
      .insertInto('vendor_counts')
      .values(part.map((c) => ({ app_id: c.appId, task_id: c.taskId, vendor: c.vendor, outcome: c.outcome, count: c.count })))
      .onConflict((oc) => oc.columns(['app_id', 'task_id', 'vendor', 'outcome']).doUpdateSet((eb) => ({ count: eb('vendor_counts.count', '+', eb.ref('excluded.count')) })))
      .execute();
  }
}

/** Sent and reached per vendor for one task. */
export async function vendorCounts(db: Db, appId: number, taskId: string): Promise<{ vendor: string; sent: number; reached: number }[]> {
  const rows = await db.selectFrom('vendor_counts').select(['vendor', 'outcome', 'count']).where('app_id', '=', appId).where('task_id', '=', taskId).orderBy('vendor').execute();
  const out = new Map<string, { vendor: string; sent: number; reached: number }>();
  for (const r of rows) {
    const v = out.get(r.vendor) ?? { vendor: r.vendor, sent: 0, reached: 0 };
    v[r.outcome] += Number(r.count);
    out.set(r.vendor, v);
  }
  return [...out.values()];
}
