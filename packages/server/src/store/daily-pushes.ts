import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { chunks } from '../util/chunks.js';

/** One account's local day. */
export interface DayKey {
  account: string;
  day: string;
}

export const dayKey = (k: DayKey) => `${k.account}\u0000${k.day}`;

/** The pushes each (account, day) got so far, keyed by dayKey. */
export async function pushesOn(db: Kysely<Database> | Transaction<Database>, appId: number, keys: readonly DayKey[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const unique = [...new Map(keys.map((k) => [dayKey(k), k])).values()];
  for (const part of chunks(unique, 400)) {
    const rows = await db
      .selectFrom('daily_pushes')
      .select(['account', 'day', 'task_id'])
      .where('app_id', '=', appId)
      .where(sql<boolean>`(account, day) in (values ${sql.join(part.map((k) => sql`(${k.account}, ${k.day})`))})`)
      .execute();
    for (const r of rows) {
      const k = dayKey(r);
      let set = out.get(k);
      if (!set) out.set(k, (set = new Set()));
      set.add(r.task_id);
    }
  }
  return out;
}

/** Records that these accounts got this push on these days (a user with two devices counts once). */
export async function recordPushes(tx: Transaction<Database>, appId: number, taskId: string, keys: readonly DayKey[]): Promise<void> {
  const unique = [...new Map(keys.map((k) => [dayKey(k), k])).values()];
  for (const part of chunks(unique, 300)) {
    await tx
      .insertInto('daily_pushes')
      .values(part.map((k) => ({ app_id: appId, account: k.account, day: k.day, task_id: taskId })))
      .onConflict((oc) => oc.columns(['app_id', 'account', 'day', 'task_id']).doNothing())
      .execute();
  }
}

/** Days long gone carry no more meaning. */
export async function pruneBefore(db: Kysely<Database>, day: string): Promise<void> {
  await db.deleteFrom('daily_pushes').where('day', '<', day).execute();
}
