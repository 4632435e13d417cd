import type { CounterSum } from '../store/stat-counters.js';
import { groupBy } from '../util/group-by.js';

/**
 * The conversion funnel (reference §6): sendable, sent, reached, clicked, and the rates exactly as
 * Tencent's console defines them: actual send rate = sent / sendable, reach rate = reached / sent,
 * click-through rate = clicked / reached (0 when the divisor is 0).
 */
export interface Funnel {
  sendable: number;
  sent: number;
  reached: number;
  clicked: number;
  readyToSendLoss: number;
  postSendLoss: number;
  sendRate: number;
  reachRate: number;
  clickRate: number;
}

export const rate = (part: number, whole: number): number => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);

/** Sums counter rows into one funnel. */
export function funnelOf(rows: readonly CounterSum[]): Funnel {
  const n = { sendable: 0, sent: 0, reached: 0, clicked: 0, loss_ready: 0, loss_post: 0 };
  for (const r of rows) n[r.metric] += r.count;
  return {
    sendable: n.sendable,
    sent: n.sent,
    reached: n.reached,
    clicked: n.clicked,
    readyToSendLoss: n.loss_ready,
    postSendLoss: n.loss_post,
    sendRate: rate(n.sent, n.sendable),
    reachRate: rate(n.reached, n.sent),
    clickRate: rate(n.clicked, n.reached),
  };
}

/** Rows grouped by a key, each group summed into a funnel, in key order. */
export function funnelsBy<K extends string | number>(rows: readonly CounterSum[], key: (r: CounterSum) => K): Map<K, Funnel> {
  return new Map([...groupBy(rows, key)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, g]) => [k, funnelOf(g)]));
}
