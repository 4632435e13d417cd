import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { EventType, platformOf } from '../stats/platforms.js';
import type { StatEntry, StatsRecorder } from '../stats/recorder.js';
import { chunks } from '../util/chunks.js';
import { groupBy } from '../util/group-by.js';
import type { ReceiptEvent } from './vendor.js';

/**
 * What vendors' delivery receipts say, written down on the vendor channel (EventType 1): arrivals
 * are `reached`; a token the vendor reports invalid is cleared and is a post-send loss with the
 * vendor's code; other failures likewise. A receipt that names a token is kept per device (trace
 * step, callback); one that only counts adds to the counters.
 */
export async function acceptReceipts(db: Kysely<Database>, stats: StatsRecorder, appId: number, vendor: string, list: readonly ReceiptEvent[]): Promise<void> {
  const platform = platformOf(vendor);
  const devices = await devicesOfTokens(db, appId, vendor, list.flatMap((e) => (e.token ? [e.token] : [])));
  const entries: StatEntry[] = [];
  for (const g of groupBy(list, (e) => `${e.taskId}\u0000${e.outcome}\u0000${e.code ?? 0}`).values()) {
    const first = g[0]!;
    const reached = first.outcome === 'reached';
    const base = {
      appId,
      taskId: first.taskId,
      eventType: EventType.offline,
      metric: reached ? ('reached' as const) : ('loss_post' as const),
      code: reached ? 0 : (first.code ?? 0),
      reason: reached ? '' : `${vendor} receipt${first.outcome === 'dead' ? ' (token cleared)' : ''}: ${first.info ?? first.outcome}`.slice(0, 500),
      trace: reached ? 'vendor_reached' : 'vendor_lost',
      info: `${vendor} receipt`,
    };
    const known = g.flatMap((e) => (e.token && devices.has(e.token) ? [{ registrationId: devices.get(e.token)!.registrationId, userId: devices.get(e.token)!.userId, platform }] : []));
    const counted = g.reduce((n, e) => n + (e.token && devices.has(e.token) ? 0 : (e.count ?? 1)), 0);
    if (known.length > 0) entries.push({ ...base, devices: known });
    if (counted > 0) entries.push({ ...base, count: counted, platform, trace: undefined });
  }
  await db.transaction().execute(async (tx) => {
    await stats.write(tx, entries);
    const deadTokens = list.filter((e) => e.outcome === 'dead' && e.token).map((e) => e.token!);
    for (const part of chunks(deadTokens, 500)) {
      await tx.updateTable('devices').set({ token: null }).where('app_id', '=', appId).where('vendor', '=', vendor).where('token', 'in', part).execute();
    }
  });
}

async function devicesOfTokens(db: Kysely<Database>, appId: number, vendor: string, tokens: readonly string[]): Promise<Map<string, { registrationId: string; userId: string | null }>> {
  const out = new Map<string, { registrationId: string; userId: string | null }>();
  for (const part of chunks([...new Set(tokens)], 500)) {
    const rows = await db.selectFrom('devices').select(['registration_id', 'user_id', 'token']).where('app_id', '=', appId).where('vendor', '=', vendor).where('token', 'in', part).execute();
    for (const r of rows) out.set(r.token!, { registrationId: r.registration_id, userId: r.user_id });
  }
  return out;
}
