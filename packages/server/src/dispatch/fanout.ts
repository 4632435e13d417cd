import type { Kysely } from 'kysely';
import type { Router } from '../cluster/index.js';
import type { OfflineChannels } from '../channels/index.js';
import type { Database } from '../store/index.js';
import { events, inbox, shards as shardStore } from '../store/index.js';
import type { ShardRow } from '../store/shards.js';
import { LossReason } from '../stats/loss-reasons.js';
import { RateLimiter } from '../util/rate-limiter.js';
import { resolveAudience } from './audience.js';
import { deliverBroadcastBatch, type BroadcastTask, type Candidate } from './broadcast-batch.js';

export interface FanoutDeps {
  db: Kysely<Database>;
  router: Router;
  offline: OfflineChannels;
  /** This process, as a lease holder. */
  owner: string;
  leaseMs: number;
  /** Devices per shard (default 5,000). */
  shardSize?: number;
  /** Devices per page inside a shard (default 500). */
  pageSize?: number;
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

/**
 * Fan-out of all-users and tag pushes. The audience is resolved once per task and process (index
 * driven, see audience.ts), cut into shards of registration_id ranges stored with the task, and
 * each shard is sent page by page under a lease: a page's inbox rows, losses and the shard's cursor
 * commit together, so a process that dies mid-shard leaves a cursor the next holder resumes from.
 * Only devices online when their page runs get an inbox row; the others catch up when they connect
 * (catch-up.ts), so an offline audience of millions costs no row per device.
 */
export class Fanout {
  private audiences = new Map<string, Promise<string[]>>();
  private limiters = new Map<string, RateLimiter>();

  constructor(private deps: FanoutDeps) {}

  /** Resolves the audience and stores the task's shards (once across processes). */
  async resolve(task: BroadcastTask): Promise<void> {
    const ids = await this.audience(task);
    const size = this.deps.shardSize ?? 5000;
    const bounds = [''];
    for (let i = size; i < ids.length; i += size) bounds.push(ids[i]!);
    await shardStore.createShards(this.deps.db, task.appId, task.taskId, bounds, ids.length);
  }

  /** Sends one shard from its cursor to its end; returns false if the task stopped or the lease was lost. */
  async runShard(task: BroadcastTask, shard: ShardRow, stopping: () => boolean = () => false): Promise<boolean> {
    const ids = await this.audience(task);
    let i = shard.cursor === null ? seek(ids, shard.lo, false) : seek(ids, shard.cursor, true);
    const speed = task.pushSpeed;
    const pageSize = speed ? Math.max(1, Math.min(this.deps.pageSize ?? 500, Math.floor(speed / 4))) : (this.deps.pageSize ?? 500);
    let cursor = shard.cursor;
    for (;;) {
      const page: string[] = [];
      while (i < ids.length && page.length < pageSize && (shard.hi === null || ids[i]! < shard.hi)) page.push(ids[i++]!);
      const done = i >= ids.length || (shard.hi !== null && ids[i]! >= shard.hi);
      if (speed && page.length > 0) await this.limiter(task, speed).take(page.length);
      if (page.length > 0) cursor = page[page.length - 1]!;
      const live = await this.runPage(task, shard, page, cursor, done);
      if (!live || done) return live;
      if (stopping()) return false;
    }
  }

  /** The task is over here: free what this process kept for it. */
  forget(task: BroadcastTask): void {
    const key = `${task.appId}:${task.taskId}`;
    this.audiences.delete(key);
    this.limiters.delete(key);
  }

  private async runPage(task: BroadcastTask, shard: ShardRow, page: string[], cursor: string | null, done: boolean): Promise<boolean> {
    const { db, router } = this.deps;
    const now = Date.now();
    const found: Candidate[] =
      page.length === 0
        ? []
        : await db
            .selectFrom('devices')
            .select(['registration_id', 'user_id', 'locale', 'time_zone'])
            .where('app_id', '=', task.appId)
            .where('registration_id', 'in', page)
            // devices registered after the push are not its audience
            .where('created_at', '<=', task.createdAt)
            .execute();
    const decided = await inbox.decidedFor(db, task.appId, [task.taskId], found.map((d) => d.registration_id));
    const fresh = found.filter((d) => !decided.has(inbox.decidedKey(task.taskId, d.registration_id)));
    const online = await router.online(task.appId, fresh.map((d) => d.registration_id));
    const connected = fresh.filter((d) => online.has(d.registration_id));
    const away = fresh.filter((d) => !online.has(d.registration_id));
    const lostOffline = task.pushFlag === 1 ? away.length : 0;

    const outcome = await deliverBroadcastBatch(db, router, task, connected, now, async (tx) => {
      if (lostOffline > 0) {
        const r = LossReason.offlineOnlineOnly;
        await events.addLossCounts(tx, [{ appId: task.appId, taskId: task.taskId, code: r.code, stage: r.stage, reason: r.reason, count: lostOffline }]);
      }
      await shardStore.advanceShard(tx, shard, this.deps.owner, cursor, page.length, done, now, this.deps.leaseMs);
      return lostOffline;
    });
    if (outcome.live && task.pushFlag === 0 && away.length > 0) {
      // Not in any inbox: the vendor channels may reach them now; otherwise they catch up on connect.
      await this.deps.offline.sendOffline({
        appId: task.appId,
        taskId: task.taskId,
        targets: away.map((d) => ({ registrationId: d.registration_id, userId: d.user_id, locale: d.locale, seq: null })),
      });
    }
    return outcome.live;
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
