import type { Kysely } from 'kysely';
import type { Delivery, Router } from '../cluster/index.js';
import { randomHex } from '../auth/secrets.js';
import type { Database } from '../store/index.js';
import { events, inbox, shards as shardStore, tasks } from '../store/index.js';
import { LossReason } from '../stats/loss-reasons.js';
import { EventType } from '../stats/platforms.js';
import { lossEntries, type StatsRecorder } from '../stats/recorder.js';
import { yieldToLoop } from '../util/yield.js';
import { BroadcastTask } from './broadcast-batch.js';
import type { Fanout } from './fanout.js';
import { FrameRenderer, type StoredMessage } from './message.js';
import { groupBy } from '../util/group-by.js';

export interface TaskRunnerDeps {
  db: Kysely<Database>;
  router: Router;
  fanout: Fanout;
  stats: StatsRecorder;
  owner: string;
  leaseMs: number;
  /** Fires scheduled pushes that are due. */
  dispatchSchedules(now: number): Promise<void>;
  /** Takes over single and batch pushes whose process died while routing them. */
  recoverBatches(now: number): Promise<void>;
  /** How often to look for work when nobody says there is some (ms). */
  pollMs: number;
  /** Shards sent at the same time by this process. */
  concurrency: number;
  onError(err: unknown, context: string): void;
}

/**
 * The background half of dispatch: picks up tasks that need sending (new, or left by a process
 * that died), runs their shards, closes tasks whose shards are all done or whose messages expired,
 * releases messages held for quiet hours, fires scheduled pushes and takes over single and batch
 * pushes whose process died while routing them. One pass at a time; `wake()`
 * asks for a pass now (a push was accepted, a shard finished).
 */
export class TaskRunner {
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private active = new Set<Promise<void>>();

  constructor(private deps: TaskRunnerDeps) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.deps.pollMs);
    this.timer.unref();
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.runPass()
      .catch((err) => this.deps.onError(err, 'task runner'))
      .finally(() => {
        this.pass = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops taking work; shards being sent stop after their current page (their leases lapse for whoever comes next). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pass;
    await Promise.all([...this.active]);
  }

  private async runPass(): Promise<void> {
    const now = Date.now();
    await this.deps.dispatchSchedules(now);
    await this.deps.recoverBatches(now);
    await this.releaseHeld(now);
    await this.closeExpired(now);
    await this.startShards();
  }

  private async startShards(): Promise<void> {
    const { db, fanout, concurrency } = this.deps;
    if (this.active.size >= concurrency) return;
    const rows = await tasks.runnableBroadcasts(db, 50);
    for (const row of rows) {
      if (this.stopped || this.active.size >= concurrency) return;
      const task = new BroadcastTask(row);
      await fanout.livePass(task);
      if (row.status === 'resolving') await fanout.resolve(task);
      while (!this.stopped && this.active.size < concurrency) {
        const shard = await shardStore.claimShard(db, task.appId, task.taskId, `${this.deps.owner}-${randomHex(3)}`, Date.now(), this.deps.leaseMs);
        if (!shard) {
          await this.finishIfDone(task);
          break;
        }
        const run: Promise<void> = fanout
          .runShard(task, shard, () => this.stopped)
          .then(() => this.finishIfDone(task))
          .catch((err) => this.deps.onError(err, `fan-out of ${task.taskId}`))
          .finally(() => {
            this.active.delete(run);
            this.wake();
          });
        this.active.add(run);
      }
    }
  }

  private async finishIfDone(task: BroadcastTask): Promise<void> {
    const p = await shardStore.progress(this.deps.db, task.appId, task.taskId);
    if (p.shards === 0 || p.done < p.shards) return;
    await tasks.transition(this.deps.db, task.appId, task.taskId, ['sending'], 'done', { finished_at: Date.now() });
    this.deps.fanout.forget(task);
  }

  /** Expired tasks close; the targeted devices that never got the message are counted as lost. */
  private async closeExpired(now: number): Promise<void> {
    const { db } = this.deps;
    for (const row of await tasks.expiredBroadcasts(db, now, 100)) {
      await db.transaction().execute(async (tx) => {
        if (!(await tasks.transition(tx, row.app_id, row.task_id, tasks.LIVE_BROADCAST, 'expired', { finished_at: now }))) return;
        const t = await tx.selectFrom('tasks').select(['target_count', 'materialized', 'dropped']).where('app_id', '=', row.app_id).where('task_id', '=', row.task_id).executeTakeFirstOrThrow();
        const never = Number(t.target_count) - Number(t.materialized) - Number(t.dropped);
        // audience devices that never connected while it lasted: lost on the gateway channel
        const base = { appId: row.app_id, taskId: row.task_id, eventType: EventType.online, at: now };
        await this.deps.stats.write(tx, lossEntries(base, LossReason.expiredOffline, { count: Math.max(0, never), platform: 0 }, true));
      });
      this.deps.fanout.forget(new BroadcastTask(row));
    }
  }

  /** Messages held for quiet hours whose window has ended go to the devices that are connected. */
  private async releaseHeld(now: number): Promise<void> {
    const { db, router } = this.deps;
    for (;;) {
      const due = await inbox.dueDeferred(db, now, 1000);
      if (due.length === 0) return;
      await inbox.releaseDeferred(db, due);
      const renderers = new Map<string, FrameRenderer>();
      for (const [appId, list] of groupBy(due, (m) => m.app_id)) {
        const deliveries: Delivery[] = list.map((m) => {
          let r = renderers.get(m.task_id);
          if (!r) renderers.set(m.task_id, (r = new FrameRenderer(m.task_id, JSON.parse(m.message) as StoredMessage)));
          return { registrationId: m.registration_id, seq: Number(m.seq), frame: r.frame(Number(m.seq), m.locale) };
        });
        await router.deliver(appId, deliveries);
      }
      if (due.length < 1000) return;
      await yieldToLoop();
    }
  }
}
