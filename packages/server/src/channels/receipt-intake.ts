import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { events, vendorCounts } from '../store/index.js';
import { chunks } from '../util/chunks.js';
import { groupBy } from '../util/group-by.js';
import type { ReceiptEvent } from './vendor.js';

/**
 * What vendors' delivery receipts say, written down: arrivals add to the task's `reached` count
 * for that vendor; a token the vendor reports invalid is cleared and counted as a post-send loss
 * with the vendor's code; other failures are counted likewise. One write per kind per receipt.
 */
export async function acceptReceipts(db: Kysely<Database>, appId: number, vendor: string, list: readonly ReceiptEvent[]): Promise<void> {
  const reached = list.filter((e) => e.outcome === 'reached');
  await vendorCounts.addVendorCounts(db, reached.map((e) => ({ appId, taskId: e.taskId, vendor, outcome: 'reached', count: e.count ?? 1 })));
  const lost = list.filter((e) => e.outcome !== 'reached');
  await events.addLossCounts(
    db,
    [...groupBy(lost, (e) => `${e.taskId}\u0000${e.outcome}\u0000${e.code ?? 0}`).values()].map((g) => ({
      appId,
      taskId: g[0]!.taskId,
      code: g[0]!.code ?? 0,
      stage: 'post_send',
      reason: `${vendor} receipt${g[0]!.outcome === 'dead' ? ' (token cleared)' : ''}: ${g[0]!.info ?? g[0]!.outcome}`.slice(0, 500),
      count: g.reduce((n, e) => n + (e.count ?? 1), 0),
    })),
  );
  const deadTokens = lost.filter((e) => e.outcome === 'dead' && e.token).map((e) => e.token!);
  for (const part of chunks(deadTokens, 500)) {
    await db.updateTable('devices').set({ token: null }).where('app_id', '=', appId).where('vendor', '=', vendor).where('token', 'in', part).execute();
  }
}
