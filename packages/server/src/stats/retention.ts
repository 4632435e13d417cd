import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { deleteOldSchedules, deleteOldTraceEvents, deleteTasks, prunableTasks } from '../store/prune.js';
import { groupBy } from '../util/group-by.js';
import { yieldToLoop } from '../util/yield.js';

export interface RetentionOptions {
  /** How long a push is kept after it was created and after it expired (ms). */
  retentionMs: number;
  /** Tasks looked at per pass (default 2,000); the rest wait for the next pass. */
  tasksPerPass?: number;
  /** Rows per delete statement (default 2,000). */
  rowsPerStatement?: number;
  /** Asked between batches: a pass stops early when Herald is closing. */
  stopping?: () => boolean;
}

export interface PruneReport {
  tasks: number;
  schedules: number;
  traceEvents: number;
}

const TASKS_PER_BATCH = 50;

/**
 * One pass of the retention: pushes created and expired before the cutoff that no longer send go,
 * with their inbox rows, losses, clicks, counters, shards, trace rows and MsgRandom claims; then
 * fired schedules and trace rows older than the cutoff. Never a push that can still be delivered:
 * its inbox rows are what its devices read.
 */
export async function pruneRetained(db: Kysely<Database>, now: number, o: RetentionOptions): Promise<PruneReport> {
  const cutoff = now - o.retentionMs;
  const rows = o.rowsPerStatement ?? 2000;
  const stopping = o.stopping ?? (() => false);
  const report: PruneReport = { tasks: 0, schedules: 0, traceEvents: 0 };
  while (report.tasks < (o.tasksPerPass ?? 2000) && !stopping()) {
    const batch = await prunableTasks(db, cutoff, TASKS_PER_BATCH);
    for (const [appId, list] of groupBy(batch, (t) => t.app_id)) await deleteTasks(db, appId, list, rows);
    report.tasks += batch.length;
    if (batch.length < TASKS_PER_BATCH) break;
    await yieldToLoop();
  }
  report.schedules = await repeat(() => deleteOldSchedules(db, cutoff, rows), rows, stopping);
  report.traceEvents = await repeat(() => deleteOldTraceEvents(db, cutoff, rows), rows, stopping);
  return report;
}

/** Runs a bounded delete until it takes less than a full batch; the total it took. */
async function repeat(step: () => Promise<number>, batch: number, stopping: () => boolean): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await step();
    total += n;
    if (n < batch || stopping()) return total;
    await yieldToLoop();
  }
}

/** Runs the retention now and then; one pass at a time. */
export class RetentionPruner {
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private db: Kysely<Database>,
    private o: RetentionOptions & { intervalMs: number; onError(err: unknown): void },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.run(), this.o.intervalMs);
    this.timer.unref();
    void this.run();
  }

  /** A pass now, unless one is running (then that one). */
  run(): Promise<void> {
    this.pass ??= pruneRetained(this.db, Date.now(), { ...this.o, stopping: () => this.stopped })
      .then(() => undefined, (err: unknown) => this.o.onError(err))
      .finally(() => (this.pass = null));
    return this.pass;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }
}
