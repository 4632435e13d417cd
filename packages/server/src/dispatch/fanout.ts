import type { Kysely } from 'kysely';
import type { Router } from '../cluster/index.js';
import type { OfflineChannels } from '../channels/index.js';
import type { Database } from '../store/index.js';
import { events, inbox, shards as shardStore } from '../store/index.js';
import type { ShardRow } from '../store/shards.js';
import { LossReason } from '../stats/loss-reasons.js';
import { EventType } from '../stats/platforms.js';
import { lossEntries, type StatsRecorder } from '../stats/recorder.js';
import { RateLimiter } from '../util/rate-limiter.js';
import { yieldToLoop } from '../util/yield.js';
import { withLeaseRenewal } from '../util/lease-renewal.js';
import { devicesInAudience, resolveAudience } from './audience.js';
import { deliverBroadcastBatch, type BroadcastTask, type Candidate } from './broadcast-batch.js';

export interface FanoutDeps {
  db: Kysely<Database>;
  router: Router;
  offline: OfflineChannels;
  stats: StatsRecorder;
  leaseMs: number;
  /** Devices per shard (default 5,000). */
  shardSize?: number;
  /** Devices per page inside a shard (default 1,000). */
  pageSize?: number;
  onError?(err: unknown, context: string): void;
}

/** First index in sorted `ids` at or after `from` (or strictly after, when `after`). */
function seek(ids: readonly string[], from: string, after: boolean): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid]!;
    if (v < from || (after && v === from)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const LIVE_BATCH = 2500;
const LIVE_BATCHES_PER_TURN = 4;

/**
 * Fan-out of all-users and tag pushes, in two parts:
 *
 * - The live pass: each process first hands the push to the devices connected to it, in batches,
 *   before the audience is even resolved, so connected devices are not kept waiting behind a scan
 *   of millions of offline ones. It needs no lease: a process that dies takes its connections with
 *   it, and they catch up when they reconnect.
 * - The shard scan: the audience is resolved once per task and process (index driven, see
 *   audience.ts), cut into registration_id ranges stored with the task, and each shard is scanned
 *   page by page under a lease. Devices online when their page runs are served; offline ones get no
 *   row (they catch up on connect, catch-up.ts) but go to the vendor channels. The shard's cursor
 *   commits with the page's rows and losses, after the page's vendor sends: a process that dies
 *   mid-shard leaves a cursor the next holder resumes from, so no device is written twice and none
 *   misses its vendor send.
 */
export class Fanout {
  private audiences = new Map<string, Promise<string[]>>();
  private limiters = new Map<string, RateLimiter>();
  private livePassed = new Set<string>();

  constructor(private deps: FanoutDeps) {}

  /** Serves this process's connected devices in the audience, once per task. */
  async livePass(task: BroadcastTask): Promise<void> {
    const key = `${task.appId}:${task.taskId}`;
    if (this.livePassed.has(key) || task.pushSpeed) return; // a paced push keeps its pace through the scan
    this.livePassed.add(key);
    const ids = this.deps.router.localDevices(task.appId);
    for (let i = 0; i < ids.length; i += LIVE_BATCH) {
      const part = ids.slice(i, i + LIVE_BATCH);
      const inAudience = await devicesInAudience(this.deps.db, task.appId, task.audience, part);
      const candidates = await this.undecided(task, part.filter((id) => inAudience.has(id)));
      if (candidates.length === 0) continue;
      const r = await deliverBroadcastBatch(this.deps.db, this.deps.router, this.deps.stats, task, candidates, Date.now());
      if (!r.live) return;
      // Connected devices come before acks and HTTP, but not for longer than a few batches at a time.
      if ((i / LIVE_BATCH) % LIVE_BATCHES_PER_TURN === LIVE_BATCHES_PER_TURN - 1) await yieldToLoop();
    }
  }

  /** Resolves the audience and stores the task's shards (once across processes). */
  async resolve(task: BroadcastTask): Promise<void> {
    const ids = await this.audience(task);
    const size = this.deps.shardSize ?? 5000;
    const bounds = [''];
    for (let i = size; i < ids.length; i += size) bounds.push(ids[i]!);
    await shardStore.createShards(this.deps.db, task.appId, task.taskId, bounds, ids.length);
  }

  /** Scans one shard from its cursor to its end; false if the task stopped, the process is stopping, or the lease was lost (throws LeaseLost). */
  async runShard(task: BroadcastTask, shard: ShardRow, stopping: () => boolean = () => false): Promise<boolean> {
    const ids = await this.audience(task);
    let i = shard.cursor === null ? seek(ids, shard.lo, false) : seek(ids, shard.cursor, true);
    const speed = task.pushSpeed;
    const size = this.deps.pageSize ?? 1000;
    const pageSize = speed ? Math.max(1, Math.min(size, Math.floor(speed / 4))) : size;
    // Pages with nothing to write commit their progress now and then, well within the lease.
    const commitEvery = Math.min(1000, this.deps.leaseMs / 3);
    let cursor = shard.cursor;
    let lastCommit = Date.now();
    const pending = { processed: 0, lostOffline: 0 };
    for (;;) {
      const page: string[] = [];
      while (i < ids.length && page.length < pageSize && (shard.hi === null || ids[i]! < shard.hi)) page.push(ids[i++]!);
      const done = i >= ids.length || (shard.hi !== null && ids[i]! >= shard.hi);
      if (speed && page.length > 0) await this.limiter(task, speed).take(page.length);
      if (page.length > 0) cursor = page[page.length - 1]!;
      const online = await this.deps.router.online(task.appId, page);
      const away = online.size === page.length ? [] : page.filter((id) => !online.has(id));
      if (task.pushFlag === 1) pending.lostOffline += away.length;
      pending.processed += page.length;
      const connected = await this.undecided(task, [...online]);
      if (task.pushFlag === 0 && away.length > 0) {
        // No inbox row: the vendor channels may reach them now; otherwise they catch up on connect.
        // Sent before the page's progress is stored, so a process that dies here leaves the cursor
        // before this page: whoever resumes sends it again (the vendor shows a repeat once, keyed
        // by the push's notify id) and never skips it.
        await this.sendAway(task, shard, away);
      }
      // asked once per page: a page that stops must have committed its progress
      const stop = stopping();
      if (connected.length > 0 || done || Date.now() - lastCommit >= commitEvery || stop) {
        const live = await this.commitPage(task, shard, connected, cursor, pending, done);
        lastCommit = Date.now();
        pending.processed = 0;
        pending.lostOffline = 0;
        if (!live) return false;
      }
      if (done) return true;
      if (stop) return false;
      await yieldToLoop();
    }
  }

  /** A page's offline devices to their vendors, the shard's lease kept alive while a slow vendor takes its time. */
  private async sendAway(task: BroadcastTask, shard: ShardRow, away: string[]): Promise<void> {
    const { db, leaseMs } = this.deps;
    await withLeaseRenewal(
      () => this.deps.offline.sendOffline({ appId: task.appId, taskId: task.taskId, targets: away.map((registrationId) => ({ registrationId, seq: null })) }),
      leaseMs / 3,
      () => shardStore.renewShardLease(db, shard, Date.now(), leaseMs),
      (err) => this.deps.onError?.(err, `lease renewal of ${task.taskId}`),
    );
  }

  /** The task is over here: free what this process kept for it. */
  forget(task: { appId: number; taskId: string }): void {
    const key = `${task.appId}:${task.taskId}`;
    this.audiences.delete(key);
    this.limiters.delete(key);
    this.livePassed.delete(key);
  }

  /** Writes a page: its connected devices' rows, its losses and the shard's cursor, in one transaction. */
  private async commitPage(task: BroadcastTask, shard: ShardRow, connected: Candidate[], cursor: string | null, pending: { processed: number; lostOffline: number }, done: boolean): Promise<boolean> {
    const now = Date.now();
    const lost = pending.lostOffline;
    const outcome = await deliverBroadcastBatch(this.deps.db, this.deps.router, this.deps.stats, task, connected, now, async (tx) => {
      await shardStore.advanceShard(tx, shard, cursor, pending.processed, done, now, this.deps.leaseMs);
      const base = { appId: task.appId, taskId: task.taskId, eventType: EventType.online, at: now };
      return { dropped: lost, stats: lossEntries(base, LossReason.offlineOnlineOnly, { count: lost, platform: 0 }, true) };
    });
    return outcome.live;
  }

  /**
   * These devices' details, without the ones the task already decided (served by the live pass or
   * a catch-up). Without quiet hours or a cap nothing is decided but an inbox row, and the insert
   * skips those itself, so the lookup is saved.
   */
  private async undecided(task: BroadcastTask, ids: string[]): Promise<Candidate[]> {
    if (ids.length === 0) return [];
    const found = await this.deps.db
      .selectFrom('devices')
      .select(['registration_id', 'user_id', 'locale', 'time_zone'])
      .where('app_id', '=', task.appId)
      .where('registration_id', 'in', ids)
      // devices registered after the push are not its audience
      .where('created_at', '<=', task.createdAt)
      .execute();
    if (!task.policy.quietHours && !task.policy.dailyLimit) return found;
    const decided = await inbox.decidedFor(this.deps.db, task.appId, [task.taskId], found.map((d) => d.registration_id));
    return found.filter((d) => !decided.has(inbox.decidedKey(task.taskId, d.registration_id)));
  }

  private audience(task: BroadcastTask): Promise<string[]> {
    const key = `${task.appId}:${task.taskId}`;
    let p = this.audiences.get(key);
    if (!p) {
      p = resolveAudience(this.deps.db, task.appId, task.audience);
      p.catch(() => this.audiences.delete(key));
      this.audiences.set(key, p);
    }
    return p;
  }

  private limiter(task: BroadcastTask, speed: number): RateLimiter {
    const key = `${task.appId}:${task.taskId}`;
    let l = this.limiters.get(key);
    if (!l) this.limiters.set(key, (l = new RateLimiter(speed)));
    return l;
  }
}
