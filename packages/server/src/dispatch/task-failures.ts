import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { tasks } from '../store/index.js';
import { LossReason } from '../stats/loss-reasons.js';
import type { StatsRecorder } from '../stats/recorder.js';
import { AudienceTooComplex } from './audience.js';
import { UnreadableTask } from './broadcast-batch.js';
import { closeBroadcast } from './close-task.js';

/** What the runner counts for Prometheus (api/metrics.ts). */
export interface TaskFailureMetrics {
  attemptFailed(): void;
  taskFailed(): void;
}

export interface TaskFailuresDeps {
  db: Kysely<Database>;
  stats: StatsRecorder;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  metrics: TaskFailureMetrics;
  /** Failed attempts after which a push is given up on. */
  maxAttempts: number;
  /** Wait before the first retry (ms); it doubles with each failed attempt, up to MAX_BACKOFF_MS. */
  backoffMs: number;
  /** A push was given up on: what this process keeps for it can go. */
  onFailed(key: TaskKey): void;
}

export interface TaskKey {
  appId: number;
  taskId: string;
}

const MAX_BACKOFF_MS = 10 * 60_000;
const MAX_REASON = 300;

/** Errors that will happen again however often the task is tried. */
const permanent = (err: unknown) => err instanceof UnreadableTask || err instanceof AudienceTooComplex;

/**
 * Failed attempts at an all-users or tag push (its live pass, audience, a shard, a catch-up). Each
 * is counted in the store with its reason, and the push waits before it is tried again, twice as
 * long each time; at `maxAttempts` (or at once, for an error no retry can mend) it is given up on:
 * status `failed`, and the devices it never reached counted lost (-13). Others' pushes go on.
 */
export class TaskFailures {
  constructor(private deps: TaskFailuresDeps) {}

  /** `during` says what was being done, for the reason shown with the task. Never throws. */
  async record(key: TaskKey, err: unknown, during: string, now = Date.now()): Promise<void> {
    this.deps.metrics.attemptFailed();
    try {
      await this.count(key, err, during, now);
    } catch (e) {
      this.deps.log.error({ err: e, appId: key.appId, taskId: key.taskId }, `a failed attempt at push ${key.taskId} could not be recorded`);
    }
  }

  /**
   * A failed attempt at routing a single or batch push taken over after a crash (batch-recovery.ts):
   * retried with the same back-off, then given up on as `failed`. Its inbox rows stay, so its
   * devices still get it over the gateway when they connect; only the vendor sends are given up.
   */
  async recordRouting(key: TaskKey, err: unknown, now = Date.now()): Promise<void> {
    this.deps.metrics.attemptFailed();
    try {
      await this.count(key, err, 'routing', now, ['accepted'], (reason) => tasks.transition(this.deps.db, key.appId, key.taskId, ['accepted'], 'failed', { finished_at: now, fail_reason: reason }));
    } catch (e) {
      this.deps.log.error({ err: e, appId: key.appId, taskId: key.taskId }, `a failed attempt at push ${key.taskId} could not be recorded`);
    }
  }

  private async count(key: TaskKey, err: unknown, during: string, now: number, statuses: readonly string[] = tasks.LIVE_BROADCAST, giveUp = (reason: string) => this.closeFailed(key, reason, now)): Promise<void> {
    const { db, log, metrics } = this.deps;
    const reason = `${during}: ${err instanceof Error ? err.message : String(err)}`.slice(0, MAX_REASON);
    const attempts = await tasks.recordFailure(db, key.appId, key.taskId, reason, (n) => now + Math.min(MAX_BACKOFF_MS, this.deps.backoffMs * 2 ** (n - 1)), statuses);
    if (attempts === undefined) return; // recalled, expired or given up on meanwhile
    const context = { err, appId: key.appId, taskId: key.taskId, attempts };
    if (attempts < this.deps.maxAttempts && !permanent(err)) {
      log.warn(context, `push ${key.taskId} failed ${during}; it will be retried`);
      return;
    }
    if (!(await giveUp(reason))) return;
    log.error(context, `push ${key.taskId} failed after ${attempts} attempt(s) and is given up on: ${reason}`);
    metrics.taskFailed();
    this.deps.onFailed(key);
  }

  /** An all-users or tag push given up on: `failed`, and the devices it never reached counted lost (-13). */
  private closeFailed(key: TaskKey, reason: string, now: number): Promise<boolean> {
    return this.deps.db.transaction().execute((tx) => closeBroadcast(tx, this.deps.stats, key, 'failed', LossReason.taskFailed, now, { fail_reason: reason }));
  }
}
