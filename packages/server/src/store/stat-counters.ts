import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';
import { chunks } from '../util/chunks.js';
import { sumCounts } from '../util/sum-counts.js';

type Db = Transaction<Database> | Kysely<Database>;

/** The funnel's steps and the two loss stages, as stored in `stat_counters.metric`. */
export const METRICS = ['sendable', 'sent', 'reached', 'clicked', 'loss_ready', 'loss_post'] as const;
export type Metric = (typeof METRICS)[number];

export interface Counter {
  appId: number;
  family: number;
  taskId: string;
  /** Epoch hour of the events. */
  hour: number;
  eventType: number;
  platform: number;
  metric: Metric;
  code: number;
  reason: string;
  count: number;
}

export const hourOf = (ms: number): number => Math.floor(ms / 3_600_000);

/** Adds to the counters: one upsert per distinct key, 200 keys per statement. */
export async function addCounters(db: Db, counters: readonly Counter[]): Promise<void> {
  const merged = sumCounts(counters, (c) => `${c.appId}\u0000${c.taskId}\u0000${c.hour}\u0000${c.eventType}\u0000${c.platform}\u0000${c.metric}\u0000${c.code}`);
  // a stable order: two processes upserting the same keys lock them in the same order
  merged.sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : a.hour - b.hour || a.eventType - b.eventType || a.platform - b.platform || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.code - b.code)));
  for (const part of chunks(merged, 200)) {
    await db
      .insertInto('stat_counters')
      .values(part.map((c) => ({ app_id: c.appId, family: c.family, task_id: c.taskId, hour: c.hour, event_type: c.eventType, platform: c.platform, metric: c.metric, code: c.code, reason: c.reason, count: c.count })))
      .onConflict((oc) =>
        oc.columns(['app_id', 'task_id', 'hour', 'event_type', 'platform', 'metric', 'code']).doUpdateSet((eb) => ({ count: eb('stat_counters.count', '+', eb.ref('excluded.count')), reason: eb.ref('excluded.reason') })),
      )
      .execute();
  }
}

export interface CounterFilter {
  appId: number;
  family: number;
  /** Only these tasks; absent = every task of the family. */
  taskIds?: readonly string[];
  /** Epoch hours, inclusive. */
  fromHour?: number;
  toHour?: number;
  eventType?: number;
  platform?: number;
  metrics?: readonly Metric[];
}

/** Summed counters; the columns not grouped by come back as 0 or ''. */
export type CounterSum = Omit<Counter, 'appId' | 'family'>;

/** The counters matching the filter, summed per `by` (the other columns come back as 0 or ''). */
export async function sumCounters(db: Db, f: CounterFilter, by: readonly ('taskId' | 'hour' | 'eventType' | 'platform' | 'code')[]): Promise<CounterSum[]> {
  const cols = { taskId: 'task_id', hour: 'hour', eventType: 'event_type', platform: 'platform', code: 'code' } as const;
  const grouped = by.map((k) => cols[k]);
  let q = db
    .selectFrom('stat_counters')
    .select((eb) => [
      'metric',
      ...grouped,
      eb.fn.sum<number | string>('count').as('total'),
      // one reason per code is enough to explain it: the latest written of any row
      eb.fn.max('reason').as('reason'),
    ])
    .where('app_id', '=', f.appId)
    .where('family', '=', f.family)
    .groupBy(['metric', ...grouped]);
  if (f.taskIds) q = q.where('task_id', 'in', f.taskIds.length > 0 ? [...f.taskIds] : ['']);
  if (f.fromHour !== undefined) q = q.where('hour', '>=', f.fromHour);
  if (f.toHour !== undefined) q = q.where('hour', '<=', f.toHour);
  if (f.eventType !== undefined) q = q.where('event_type', '=', f.eventType);
  if (f.platform !== undefined) q = q.where('platform', '=', f.platform);
  if (f.metrics) q = q.where('metric', 'in', [...f.metrics]);
  const rows = (await q.execute()) as unknown as Record<string, unknown>[];
  return rows.map((r) => ({
    taskId: String(r.task_id ?? ''),
    hour: Number(r.hour ?? 0),
    eventType: Number(r.event_type ?? 0),
    platform: Number(r.platform ?? 0),
    metric: r.metric as Metric,
    code: Number(r.code ?? 0),
    reason: String(r.reason ?? ''),
    count: Number(r.total),
  }));
}

