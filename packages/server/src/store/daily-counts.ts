import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { chunks } from '../util/chunks.js';

export interface DayKey {
  account: string;
  day: string;
}

const key = (k: DayKey) => `${k.account}\u0000${k.day}`;

/** Pushes counted so far for each (account, local day). */
export async function countsFor(db: Kysely<Database> | Transaction<Database>, appId: number, keys: readonly DayKey[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks(keys, 400)) {
    const rows = await db
      .selectFrom('daily_counts')
      .select(['account', 'day', 'count'])
      .where('app_id', '=', appId)
      .where(sql<boolean>`(account, day) in (values ${sql.join(part.map((k) => sql`(${k.account}, ${k.day})`))})`)
      .execute();
    for (const r of rows) out.set(key(r), Number(r.count));
  }
  return out;
}

export async function addCounts(tx: Transaction<Database>, appId: number, keys: readonly DayKey[]): Promise<void> {
  const merged = new Map<string, DayKey & { n: number }>();
  for (const k of keys) {
    const m = merged.get(key(k));
    if (m) m.n++;
    else merged.set(key(k), { ...k, n: 1 });
  }
  for (const part of chunks([...merged.values()], 300)) {
    await tx
      .insertInto('daily_counts')
      .values(part.map((k) => ({ app_id: appId, account: k.account, day: k.day, count: k.n })))
      .onConflict((oc) => oc.columns(['app_id', 'account', 'day']).doUpdateSet((eb) => ({ count: eb('daily_counts.count', '+', eb.ref('excluded.count')) })))
      .execute();
  }
}

export const dayKey = key;

/** Counts of days long gone carry no more meaning. */
export async function pruneBefore(db: Kysely<Database>, day: string): Promise<void> {
  await db.deleteFrom('daily_counts').where('day', '<', day).execute();
}
