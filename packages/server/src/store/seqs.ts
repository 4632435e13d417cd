import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * Hands out `count` consecutive inbox seqs to each device, from one counter per app: a single
 * statement however many devices, where a counter per device would update every device's row.
 * Seqs stay strictly increasing for each device (the counter only grows, and the statement holds
 * the app's counter row until the transaction commits); a device sees gaps where other devices'
 * messages took numbers, as the protocol allows. Returns registrationId → the device's last new
 * seq; its new seqs are last − count + 1 … last.
 */
export async function allocateSeqs(tx: Transaction<Database> | Kysely<Database>, appId: number, counts: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let total = 0;
  for (const n of counts.values()) total += n;
  if (total === 0) return out;
  const row = await tx
    .insertInto('seq_counters')
    .values({ app_id: appId, last_seq: total })
    .onConflict((oc) => oc.column('app_id').doUpdateSet((eb) => ({ last_seq: eb('seq_counters.last_seq', '+', eb.ref('excluded.last_seq')) })))
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  let next = Number(row.last_seq) - total;
  for (const [id, n] of counts) {
    next += n;
    out.set(id, next);
  }
  return out;
}
