import type { Kysely } from 'kysely';
import { callbackOutbox, type Database } from '../store/index.js';
import type { OutboxRow } from '../store/callback-outbox.js';
import { postCallback } from './http.js';
import { backoff, Lane } from './lane.js';
import type { CallbackMetrics } from './metrics.js';
import { isActive, type CallbackConfig, type CallbackSettings } from './settings.js';
import { callbackUrl } from './signing.js';
import { requestBodies } from './compact.js';
import { MAX_EVENTS_PER_REQUEST } from './events.js';
import { Batcher } from '../util/batcher.js';

export interface CallbackSenderOptions {
  db: Kysely<Database>;
  settings: CallbackSettings;
  /** This process's lease owner: unique among the processes sharing the store. */
  owner: string;
  onError: (err: unknown, context: string) => void;
  metrics?: CallbackMetrics;
  /** Requests in flight in this process (default 32). */
  concurrency?: number;
  /** Requests in flight per app (default 4); 1 while its endpoint is failing. */
  perAppConcurrency?: number;
  /** A request with no answer by then has failed (default 5 s). */
  timeoutMs?: number;
  /** Requests a second per app unless the app sets MaxPerSecond (default 1000, Tencent's default callback QPS, trtc.io/document/67551). */
  defaultPerSecond?: number;
  /** Back-off after a failure: `firstMs` doubling to `maxMs` (defaults 1 s and 10 min). */
  backoff?: { firstMs: number; maxMs: number };
  /** A row still failing this long after it was stored becomes dead (default 24 h). */
  retryForMs?: number;
  /** How often the store is looked at for rows (default 1 s); rows this process stores are seen at once. */
  pollMs?: number;
  /** How long a claimed row is this process's (default 60 s): longer than any wait plus the timeout. */
  leaseMs?: number;
  /**
   * While this process is producing events fast (a large push being delivered), rows younger than
   * this wait (default 30 s; 0: never): delivery comes first, and a large push is not slowed by
   * posting its own events as it goes. Under load that never stops, rows go once this old.
   */
  deferWhileBusyMs?: number;
  /** Events stored per second from which the process counts as busy (default 10,000): a trickle of small pushes is posted at once. */
  busyEventsPerSecond?: number;
}

/**
 * Busy means events were stored within this long at the busy rate: longer than the statistics
 * recorder's flush interval (500 ms), which stores a delivering push's events in bursts.
 */
const BUSY_MS = 1200;

/**
 * The delivery loop: takes due rows of each app under a lease, posts them signed and paced, and
 * deletes them once delivered or reschedules them with back-off. Each app has its own lane (rows in
 * flight, pace, back-off), so a slow or failing endpoint delays only its own app's rows; rows are
 * claimed one app at a time, oldest first, so no app's backlog is scanned to reach another's.
 */
export class CallbackSender {
  private lanes = new Map<number, Lane>();
  private inFlight = 0;
  private deliveries = new Set<Promise<void>>();
  private ticking: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private nextLook = 0;
  /** When this process last stored events at the busy rate. */
  private producedAt = 0;
  /** Events stored in the current second, and when it began. */
  private produced = { since: 0, events: 0 };
  /** Rows are held back until then (deferWhileBusyMs). */
  private deferUntil = 0;
  private closing = false;
  private readonly stop = new AbortController();
  private readonly stopped: Promise<void>;
  private readonly o: Required<Omit<CallbackSenderOptions, 'metrics'>> & Pick<CallbackSenderOptions, 'metrics'>;
  /** Delivered rows, deleted together: a crash before the delete posts them again (at least once). */
  private readonly delivered: Batcher<string>;

  constructor(opts: CallbackSenderOptions) {
    this.o = {
      concurrency: 32,
      perAppConcurrency: 4,
      timeoutMs: 5000,
      defaultPerSecond: 1000,
      backoff: { firstMs: 1000, maxMs: 600_000 },
      retryForMs: 86_400_000,
      pollMs: 1000,
      leaseMs: 60_000,
      deferWhileBusyMs: 30_000,
      busyEventsPerSecond: 10_000,
      ...opts,
    };
    this.stopped = new Promise((resolve) => this.stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    this.delivered = new Batcher((ids) => callbackOutbox.remove(this.o.db, ids), (err) => this.o.onError(err, 'callback row delete'));
  }

  start(): void {
    this.schedule(0);
  }

  /** New rows (of `events` events) or a new config for `appId` (or anything, without one): look soon. */
  wake(appId?: number, events = 0): void {
    if (this.closing) return;
    if (events > 0) this.count(events, Date.now());
    if (appId !== undefined) {
      const lane = this.lane(appId);
      lane.due = Math.min(lane.due, Date.now());
      lane.pausedUntil = 0;
    }
    // a moment later: the rows may belong to a transaction that has not committed yet
    this.schedule(Date.now() + 20);
  }

  /** Stops claiming, aborts requests in flight and gives back every row this process holds. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.stop.abort();
    await this.ticking;
    await Promise.allSettled([...this.deliveries]);
    // delivered rows go before the rest are given back, or they would be posted again
    await this.delivered.flush();
    await callbackOutbox.release(this.o.db, this.o.owner).catch((err: unknown) => this.o.onError(err, 'callback lease release'));
  }

  /** Counts stored events per second; at the busy rate, the process is busy for BUSY_MS more. */
  private count(events: number, now: number): void {
    const p = this.produced;
    if (now - p.since >= 1000) {
      p.since = now;
      p.events = 0;
    }
    p.events += events;
    if (p.events >= this.o.busyEventsPerSecond) this.producedAt = now;
  }

  private lane(appId: number): Lane {
    let lane = this.lanes.get(appId);
    if (!lane) this.lanes.set(appId, (lane = new Lane(appId)));
    return lane;
  }

  private schedule(at: number): void {
    if (this.closing || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.tick();
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private tick(): void {
    if (this.closing) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.fill()
      .catch((err: unknown) => this.o.onError(err, 'callback outbox'))
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.tick();
        } else this.scheduleNext();
      });
  }

  private scheduleNext(): void {
    const now = Date.now();
    let at = this.nextLook;
    for (const lane of this.lanes.values()) at = Math.min(at, lane.nextAt(this.o.perAppConcurrency));
    this.schedule(Math.max(at, now + 5, this.deferUntil));
  }

  /** Claims rows for every lane that is due and has room, oldest lane first, within the process's limit. */
  private async fill(): Promise<void> {
    let now = Date.now();
    if (now >= this.nextLook) {
      this.nextLook = now + this.o.pollMs; // set first: a store that fails is asked again at the next poll, not in a loop
      await this.look();
    }
    const due = [...this.lanes.values()].filter((l) => l.due <= now && l.room(this.o.perAppConcurrency) > 0).sort((a, b) => a.due - b.due);
    const hold = this.o.deferWhileBusyMs;
    const busy = hold > 0 && now - this.producedAt < BUSY_MS;
    this.deferUntil = 0;
    for (const lane of due) {
      if (busy && now - lane.due < hold) {
        // look again when the production pauses, or when the oldest row has waited long enough
        const until = Math.min(this.producedAt + BUSY_MS, lane.due + hold);
        this.deferUntil = this.deferUntil === 0 ? until : Math.min(this.deferUntil, until);
        continue;
      }
      const free = this.o.concurrency - this.inFlight;
      if (free <= 0 || this.closing) return;
      const config = await this.o.settings.get(lane.appId);
      now = Date.now();
      if (!isActive(config)) {
        // switched off (or never set): the rows wait, untouched, until it is on again
        lane.pausedUntil = now + this.o.pollMs;
        continue;
      }
      lane.useConfig(config);
      if (lane.blockedUntil > now) continue;
      const want = Math.min(free, lane.room(this.o.perAppConcurrency));
      const rows = await callbackOutbox.claimDue(this.o.db, lane.appId, this.o.owner, now, this.o.leaseMs, want);
      if (rows.length < want) lane.due = Infinity;
      for (const row of rows) this.launch(lane, row, config);
    }
  }

  /** The store's view: which apps have rows waiting, and from when. */
  private async look(): Promise<void> {
    const pending = new Map((await callbackOutbox.pendingApps(this.o.db)).map((p) => [p.appId, p.due]));
    for (const [appId, due] of pending) this.lane(appId).due = due;
    for (const [appId, lane] of this.lanes) {
      if (pending.has(appId)) continue;
      lane.due = Infinity;
      if (lane.idle()) this.lanes.delete(appId);
    }
  }

  private launch(lane: Lane, row: OutboxRow, config: CallbackConfig): void {
    lane.inFlight++;
    this.inFlight++;
    const p = this.deliver(lane, row, config)
      .catch((err: unknown) => this.o.onError(err, 'callback delivery'))
      .finally(() => {
        lane.inFlight--;
        this.inFlight--;
        this.deliveries.delete(p);
        if (!this.closing) this.schedule(Date.now());
      });
    this.deliveries.add(p);
  }

  /**
   * Posts the row as its requests of at most 100 events, in order, from the first not yet
   * delivered. A failed request keeps what went before as delivered (`posted`) and schedules the
   * rest with back-off. A row whose lease is half spent is given back with its progress and taken
   * again at once, so its lease never runs out while a request is in flight.
   */
  private async deliver(lane: Lane, row: OutboxRow, config: CallbackConfig): Promise<void> {
    const { db, owner } = this.o;
    const claimedAt = Date.now();
    const bodies = requestBodies(row.body, MAX_EVENTS_PER_REQUEST);
    let posted = row.posted;
    for (let i = Math.floor(posted / MAX_EVENTS_PER_REQUEST); i < bodies.length; i++) {
      await Promise.race([lane.pacer(config.maxPerSecond ?? this.o.defaultPerSecond).take(1), this.stopped]);
      if (this.closing) return callbackOutbox.putBack(db, row.id, owner, posted);
      if (Date.now() - claimedAt > this.o.leaseMs / 2) {
        lane.due = Math.min(lane.due, Date.now());
        return callbackOutbox.putBack(db, row.id, owner, posted);
      }
      const url = callbackUrl(config.url, row.app_id, row.command, config.token, Math.floor(Date.now() / 1000));
      const result = await postCallback(url, bodies[i]!, this.o.timeoutMs, this.stop.signal);
      // a request cut short by close was not the endpoint's failure: the row goes back as it was
      if (!result.ok && this.stop.signal.aborted) return callbackOutbox.putBack(db, row.id, owner, posted);
      const events = Math.min(MAX_EVENTS_PER_REQUEST, row.event_count - i * MAX_EVENTS_PER_REQUEST);
      if (result.ok) {
        lane.succeeded();
        posted = i * MAX_EVENTS_PER_REQUEST + events;
        this.o.metrics?.requests.inc({ outcome: 'delivered' });
        this.o.metrics?.events.inc({ outcome: 'delivered' }, events);
        continue;
      }
      const now = Date.now();
      const { firstMs, maxMs } = this.o.backoff;
      lane.failed(now, firstMs, maxMs);
      const attempts = row.attempts + 1;
      const dead = now - row.created_at >= this.o.retryForMs;
      const retryAt = now + backoff(attempts, firstMs, maxMs);
      await callbackOutbox.failed(db, row.id, owner, posted, attempts, result.error, dead ? 'dead' : { at: retryAt });
      if (!dead) lane.due = Math.min(lane.due, retryAt);
      this.o.metrics?.requests.inc({ outcome: dead ? 'dead' : 'failed' });
      if (dead) this.o.metrics?.events.inc({ outcome: 'dead' }, row.event_count - posted);
      return;
    }
    this.delivered.add(row.id);
  }
}
