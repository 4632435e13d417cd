import type { Kysely, Selectable } from 'kysely';
import type { Router } from '../cluster/index.js';
import type { Database } from '../store/index.js';
import type { TasksTable } from '../store/schema.js';
import { inbox, tasks } from '../store/index.js';
import { revokeFrame } from '../gateway/index.js';
import { yieldToLoop } from '../util/yield.js';
import { devicesInAudience } from './audience.js';
import { BroadcastTask, deliverBroadcastBatch, type Candidate } from './broadcast-batch.js';
import type { TaskFailures } from './task-failures.js';
import { groupBy } from '../util/group-by.js';
import type { StatsRecorder } from '../stats/recorder.js';

interface Waiting {
  appId: number;
  registrationId: string;
  done(): void;
  fail(err: unknown): void;
}

const MAX_PER_FLUSH = 500;

/**
 * Fan-out on read: a device that connects catches up with the PushFlag 0 all-users and tag pushes
 * it missed while offline (unexpired, not recalled, sent after it registered, and whose audience
 * it is in now). Their inbox rows are written here, before the gateway reads the backlog. Devices
 * connecting together are handled together: a few queries per batch and task, not per device.
 */
export class CatchUp {
  private queue: Waiting[] = [];
  private flushing = false;

  constructor(
    private db: Kysely<Database>,
    private router: Router,
    private stats: StatsRecorder,
    private failures: TaskFailures,
  ) {}

  run(appId: number, registrationId: string): Promise<void> {
    return new Promise((done, fail) => {
      this.queue.push({ appId, registrationId, done, fail });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_PER_FLUSH);
      for (const [appId, list] of groupBy(batch, (w) => w.appId)) {
        try {
          await this.catchUp(appId, [...new Set(list.map((w) => w.registrationId))]);
          for (const w of list) w.done();
        } catch (err) {
          for (const w of list) w.fail(err);
        }
      }
      await yieldToLoop();
    }
    this.flushing = false;
  }

  /** Recalls of messages these devices had already got, made while they were away. */
  private async tellRecalls(appId: number, ids: string[]): Promise<void> {
    const pending = await inbox.pendingRecalls(this.db, appId, ids);
    if (pending.length === 0) return;
    for (const [taskId, rows] of groupBy(pending, (p) => p.task_id)) {
      const devices = rows.map((p) => p.registration_id);
      await this.router.broadcastControl(appId, devices, revokeFrame(taskId));
      await inbox.clearRecallPending(this.db, appId, taskId, devices);
    }
  }

  private async catchUp(appId: number, ids: string[], now = Date.now()): Promise<void> {
    await this.tellRecalls(appId, ids);
    const devices = await this.db
      .selectFrom('devices')
      .select(['registration_id', 'user_id', 'locale', 'time_zone', 'created_at'])
      .where('app_id', '=', appId)
      .where('registration_id', 'in', ids)
      .execute();
    if (devices.length === 0) return;
    const oldest = Math.min(...devices.map((d) => Number(d.created_at)));
    const rows = await tasks.catchUpCandidates(this.db, appId, oldest, now);
    if (rows.length === 0) return;
    rows.sort((a, b) => Number(a.created_at) - Number(b.created_at));
    const decided = await inbox.decidedFor(this.db, appId, rows.map((r) => r.task_id), devices.map((d) => d.registration_id));
    for (const row of rows) {
      try {
        await this.catchUpOn(row, devices, decided, now);
      } catch (err) {
        // One push that cannot be evaluated costs only itself: the others catch up, the devices connect.
        await this.failures.record({ appId, taskId: row.task_id }, err, 'catching up connecting devices');
      }
    }
  }

  private async catchUpOn(row: Selectable<TasksTable>, devices: readonly (Candidate & { created_at: number })[], decided: ReadonlySet<string>, now: number): Promise<void> {
    const task = new BroadcastTask(row);
    const open = devices.filter((d) => Number(d.created_at) <= task.createdAt && !decided.has(inbox.decidedKey(task.taskId, d.registration_id)));
    if (open.length === 0) return;
    const inAudience = await devicesInAudience(this.db, task.appId, task.audience, open.map((d) => d.registration_id));
    const candidates = open.filter((d) => inAudience.has(d.registration_id));
    if (candidates.length > 0) await deliverBroadcastBatch(this.db, this.router, this.stats, task, candidates, now);
  }
}
