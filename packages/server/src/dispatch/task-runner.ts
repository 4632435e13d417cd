import type { Kysely } from 'kysely';
import type { Delivery, Router } from '../cluster/index.js';
import { randomHex } from '../auth/secrets.js';
import type { Database } from '../store/index.js';
import { inbox, shards as shardStore, tasks } from '../store/index.js';
import type { ShardRow } from '../store/shards.js';
import { LossReason } from '../stats/loss-reasons.js';
import type { StatsRecorder } from '../stats/recorder.js';
import { yieldToLoop } from '../util/yield.js';
import { BroadcastTask } from './broadcast-batch.js';
import { closeBroadcast } from './close-task.js';
import type { Fanout } from './fanout.js';
import type { TaskFailures, TaskKey } from './task-failures.js';
import { FrameRenderer, type StoredMessage } from './message.js';
import { groupBy } from '../util/group-by.js';

export interface TaskRunnerDeps {
  db: Kysely<Database>;
  router: Router;
  fanout: Fanout;
  stats: StatsRecorder;
  /** Counts failed attempts at a push, and gives it up at the bound. */
  failures: TaskFailures;
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

/** Runnable pushes looked at per pass: each app's oldest few, in turns across apps. */
const RUNNABLE = { perApp: 10, perPass: 200 } as const;
/** How long a shard keeps its slot while another push waits for one (ms). */
const SLICE_MS = 1000;

/** A push with work this pass, and what this process is doing for it. */
interface Candidate {
  task: BroadcastTask;
  resolving: boolean;
  key: TaskKey;
}

/** Lexical order of two ranks of the same length. */
function comesBefore(x: readonly number[], y: readonly number[]): boolean {
  const i = x.findIndex((v, j) => v !== y[j]);
  return i >= 0 && x[i]! < y[i]!;
}

const appKey = (appId: number) => `a:${appId}`;
const taskKey = (k: TaskKey) => `t:${k.appId}:${k.taskId}`;

/**
 * The background half of dispatch: picks up tasks that need sending (new, or left by a process
 * that died), runs their shards, closes tasks whose shards are all done or whose messages expired,
 * releases messages held for quiet hours, fires scheduled pushes and takes over single and batch
 * pushes whose process died while routing them. One pass at a time; `wake()`
 * asks for a pass now (a push was accepted, a shard finished).
 *
 * The slots are shared: each goes to the app with the fewest shards running here, then to its push
 * with the fewest, the one that waited longest first; a paced push (PushSpeed) holds one, since its
 * pace is the push's, not the shard's. While a push waits for a slot, a shard that has had its slice
 * gives its slot back (its cursor stored, its lease freed) and queues again. A push that throws is
 * counted as failing (TaskFailures) and skipped; the others go on.
 */
export class TaskRunner {
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private active = new Set<Promise<void>>();
  /** Shards running here, per app and per push. */
  private running = new Map<string, number>();
  /** When each app and push last got a slot (a turn number), so that ties go to who waited longest. */
  private lastTurn = new Map<string, number>();
  private turn = 0;
  /** The last pass left a push without a slot: shards past their slice give theirs back. */
  private starved = false;

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

  /** Stops taking work; shards being sent stop after their current page and free their leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pass;
    await Promise.all([...this.active]);
  }

  private async runPass(): Promise<void> {
    const now = Date.now();
    // Each step on its own: one that throws does not keep the others from running.
    const steps: [string, () => Promise<void>][] = [
      ['scheduled pushes', () => this.deps.dispatchSchedules(now)],
      ['single and batch pushes taken over', () => this.deps.recoverBatches(now)],
      ['held messages', () => this.releaseHeld(now)],
      ['expired pushes', () => this.closeExpired(now)],
      ['fan-out', () => this.startShards()],
    ];
    for (const [what, step] of steps) {
      if (this.stopped) return;
      await step().catch((err: unknown) => this.deps.onError(err, `task runner: ${what}`));
    }
  }

  private async startShards(): Promise<void> {
    const { db, fanout, concurrency } = this.deps;
    const rows = await tasks.runnableBroadcasts(db, Date.now(), RUNNABLE.perApp, RUNNABLE.perPass);
    const candidates: Candidate[] = [];
    for (const row of rows) {
      if (this.stopped) return;
      const key = { appId: row.app_id, taskId: row.task_id };
      const task = await this.attempt(key, 'reading the stored task', async () => new BroadcastTask(row));
      // connected devices first, whatever the slots: the live pass needs none
      if (task && (await this.attempt(key, 'sending to connected devices', () => fanout.livePass(task).then(() => true)))) {
        candidates.push({ task, resolving: row.status === 'resolving', key });
      }
    }
    this.forgetTurnsBut(candidates);
    while (!this.stopped && this.active.size < concurrency) {
      const c = this.pick(candidates);
      if (!c) break;
      const shard = await this.attempt(c.key, c.resolving ? 'resolving its audience' : 'claiming a shard', async () => {
        if (c.resolving) await fanout.resolve(c.task);
        c.resolving = false;
        return (await shardStore.claimShard(db, c.key.appId, c.key.taskId, `${this.deps.owner}-${randomHex(3)}`, Date.now(), this.deps.leaseMs)) ?? null;
      });
      if (shard) {
        this.startShard(c, shard);
        continue;
      }
      candidates.splice(candidates.indexOf(c), 1);
      if (shard === null) await this.attempt(c.key, 'closing it', () => this.finishIfDone(c.task).then(() => true));
    }
    this.starved = candidates.some((c) => this.count(taskKey(c.key)) === 0);
  }

  /**
   * The push that gets the next slot: of the app with the fewest shards running here, the one with
   * the fewest; ties go to who got a slot longest ago. A paced push that holds a slot waits.
   */
  private pick(candidates: readonly Candidate[]): Candidate | undefined {
    let best: { c: Candidate; rank: number[] } | undefined;
    for (const c of candidates) {
      const t = taskKey(c.key);
      const a = appKey(c.key.appId);
      if (c.task.pushSpeed && this.count(t) > 0) continue;
      const rank = [this.count(a), this.lastTurn.get(a) ?? -1, this.count(t), this.lastTurn.get(t) ?? -1];
      if (!best || comesBefore(rank, best.rank)) best = { c, rank };
    }
    return best?.c;
  }

  private count(key: string): number {
    return this.running.get(key) ?? 0;
  }

  private startShard(c: Candidate, shard: ShardRow): void {
    const { db, fanout } = this.deps;
    const keys = [appKey(c.key.appId), taskKey(c.key)];
    this.turn++;
    for (const k of keys) {
      this.running.set(k, this.count(k) + 1);
      this.lastTurn.set(k, this.turn);
    }
    const startedAt = Date.now();
    const giveBack = () => this.stopped || (this.starved && Date.now() - startedAt >= SLICE_MS);
    const run: Promise<void> = fanout
      .runShard(c.task, shard, giveBack)
      .then(async (finished) => {
        if (finished) await this.finishIfDone(c.task);
        // stopped between pages: the cursor is stored, and the next holder need not wait for the lease
        else await shardStore.releaseShard(db, shard);
      })
      .catch(async (err: unknown) => {
        if (err instanceof shardStore.LeaseLost) return this.deps.onError(err, `fan-out of ${c.key.taskId}`);
        await this.deps.failures.record(c.key, err, `sending shard ${shard.shard}`);
        await shardStore.releaseShard(db, shard);
      })
      .catch((err: unknown) => this.deps.onError(err, `fan-out of ${c.key.taskId}`))
      .finally(() => {
        for (const k of keys) this.running.set(k, this.count(k) - 1);
        this.active.delete(run);
        this.wake();
      });
    this.active.add(run);
  }

  /** Runs one step of one push; a throw is that push's failed attempt (undefined), not the pass's. */
  private async attempt<T>(key: TaskKey, during: string, step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await step();
    } catch (err) {
      await this.deps.failures.record(key, err, during);
      return undefined;
    }
  }

  /** Turn records of pushes and apps that have no work here any more. */
  private forgetTurnsBut(candidates: readonly Candidate[]): void {
    const keep = new Set(candidates.flatMap((c) => [appKey(c.key.appId), taskKey(c.key)]));
    for (const k of this.lastTurn.keys()) if (!keep.has(k) && this.count(k) === 0) this.lastTurn.delete(k);
    for (const [k, n] of this.running) if (n === 0) this.running.delete(k);
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
      const key = { appId: row.app_id, taskId: row.task_id };
      // audience devices that never connected while it lasted: lost on the gateway channel
      await db.transaction().execute((tx) => closeBroadcast(tx, this.deps.stats, key, 'expired', LossReason.expiredOffline, now));
      this.deps.fanout.forget(key);
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
