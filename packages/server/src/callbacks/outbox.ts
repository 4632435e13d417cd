import type { Kysely, Transaction } from 'kysely';
import { randomHex } from '../auth/secrets.js';
import { callbackOutbox, type Database } from '../store/index.js';
import { chunks } from '../util/chunks.js';
import { MAX_EVENTS_PER_ROW, type CallbackCommand } from './events.js';
import { isActive, type CallbackSettings } from './settings.js';
import { packEvents, type PackedRow } from './compact.js';

export interface CallbackStatus extends callbackOutbox.OutboxCounts {
  lastError?: string;
}

/** The app's rows waiting and dead, and the last error an attempt met. */
export async function callbackStatus(db: Kysely<Database>, appId: number): Promise<CallbackStatus> {
  const [counts, lastError] = await Promise.all([callbackOutbox.counts(db, appId), callbackOutbox.lastError(db, appId)]);
  return { ...counts, ...(lastError ? { lastError } : {}) };
}

/**
 * Where events for the app's backend are written: rows of the callback_outbox table, each of up to
 * 1,000 events, stored in the transaction of whoever produced the events so that none is lost or
 * told twice by a rollback. The sender posts each row as requests of at most 100.
 */
export class CallbackOutbox {
  private seq = 0;
  /** Tells this process's ids from another's (cluster): drawn once, as a draw per row cost more than the row's other work. */
  private tag = randomHex(4);

  /** `notify` tells the sender an app has new rows (holding `events` events) or a new config. */
  constructor(private db: Kysely<Database>, private settings: CallbackSettings, private notify: (appId: number, events?: number) => void = () => {}) {}

  /**
   * Whether the app has a callback URL set and on: cached a few seconds, so the hot path may ask
   * per batch. Inside a transaction pass it as `via`: on SQLite the store has one connection,
   * which the transaction holds, so a read outside it would wait for it forever.
   */
  async wants(appId: number, via?: Transaction<Database> | Kysely<Database>): Promise<boolean> {
    return isActive(await this.settings.get(appId, via));
  }

  /**
   * Stores the events in the caller's transaction as rows of at most 1,000 events each, each event
   * led by its CallbackCommand as Tencent's are. Callers gather a whole batch into one call: a
   * call with few events is one row, posted as one request.
   */
  async enqueue(tx: Transaction<Database> | Kysely<Database>, appId: number, command: CallbackCommand, events: readonly object[]): Promise<void> {
    if (events.length === 0) return;
    const now = Date.now();
    const rows = chunks(events, MAX_EVENTS_PER_ROW).map((part) => ({
      id: this.nextId(now),
      app_id: appId,
      command,
      body: packEvents(part.map((e) => ({ CallbackCommand: command, ...e }))),
      event_count: part.length,
      created_at: now,
    }));
    await callbackOutbox.insertRows(tx, rows);
    this.notify(appId, events.length);
  }

  /** Stores row bodies packed from groups of events (compact.ts packGroups): the same rows as `enqueue` writes, built with no object per event. */
  async enqueuePacked(tx: Transaction<Database> | Kysely<Database>, appId: number, command: CallbackCommand, rows: readonly PackedRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = Date.now();
    await callbackOutbox.insertRows(
      tx,
      rows.map((r) => ({ id: this.nextId(now), app_id: appId, command, body: r.body, event_count: r.count, created_at: now })),
    );
    this.notify(appId, rows.reduce((n, r) => n + r.count, 0));
  }

  /** The app's callback config changed (set_callback): read it again, now. */
  changed(appId: number): void {
    this.settings.forget(appId);
    this.notify(appId);
  }

  status(appId: number): Promise<CallbackStatus> {
    return callbackStatus(this.db, appId);
  }

  /** Ids sort by creation (time, then a counter), which orders an app's rows with equal next_at. */
  private nextId(now: number): string {
    this.seq = (this.seq + 1) % 36 ** 4;
    return now.toString(36).padStart(9, '0') + this.seq.toString(36).padStart(4, '0') + this.tag;
  }
}
