import type { Kysely } from 'kysely';
import client, { type Registry } from 'prom-client';
import { callbackOutbox, type Database } from '../store/index.js';

export interface CallbackMetrics {
  /** Requests by outcome: delivered, failed (to be tried again), dead. */
  requests: client.Counter<'outcome'>;
  /** Events delivered, and events in rows that became dead. */
  events: client.Counter<'outcome'>;
}

/** The sender's counters, and the rows waiting and dead in the store (shared by every process on it). */
export function callbackMetrics(registry: Registry, db: Kysely<Database>): CallbackMetrics {
  new client.Gauge({
    name: 'herald_callback_outbox_rows',
    help: 'Callback outbox rows (up to 1,000 events each) in the store, by status (pending, dead)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      try {
        const c = await callbackOutbox.counts(db);
        this.set({ status: 'pending' }, c.pending);
        this.set({ status: 'dead' }, c.dead);
      } catch {
        // the store is closing or away: the scrape goes on without this gauge's new value
      }
    },
  });
  return {
    requests: new client.Counter({ name: 'herald_callback_requests_total', help: 'Callback requests posted, by outcome (delivered, failed, dead)', labelNames: ['outcome'], registers: [registry] }),
    events: new client.Counter({ name: 'herald_callback_events_total', help: 'Callback events delivered, and events given up as dead', labelNames: ['outcome'], registers: [registry] }),
  };
}
