import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { inbox, tasks } from '../store/index.js';
import { randomHex } from '../auth/secrets.js';
import { withLeaseRenewal } from '../util/lease-renewal.js';
import { handOver, type HandOverDeps, type HandOverTarget } from './hand-over.js';
import type { StoredMessage } from './message.js';
import type { TaskFailures } from './task-failures.js';
import { UnreadableTask } from './broadcast-batch.js';

export interface BatchRecoveryDeps extends HandOverDeps {
  db: Kysely<Database>;
  owner: string;
  leaseMs: number;
  /** Each user's unread count now (chat pushes' badges); absent, no badge is set. */
  unread?(appId: number, users: readonly string[]): Promise<Map<string, number>>;
  /** Counts a failed attempt; a push that keeps failing is retried later, then given up on. */
  failures: Pick<TaskFailures, 'recordRouting'>;
  onError(err: unknown, context: string): void;
}

/**
 * Single and batch pushes whose process died after accepting them (their TaskId was answered, their
 * inbox rows stored) but before handing them to every session and vendor: once their routing lease
 * lapses, another process (or this one after a restart) takes each over and hands on what is still
 * owed: every row not acked, not handed to a session and not sent through a vendor. A device sent
 * to just before the crash, not yet marked, is sent again; each vendor adapter keys its
 * notification by the TaskId (collapse id, tag, notify id), so the device shows it once.
 */
export class BatchRecovery {
  /** Pushes being taken over here, by `app:task`. */
  private inFlight = new Map<string, Promise<void>>();

  constructor(private deps: BatchRecoveryDeps) {}

  /**
   * Claims the abandoned pushes found now and starts routing them in the background, at most
   * `concurrency` at a time: the task runner's pass does not wait for a slow vendor, and one push
   * that cannot be routed holds up neither the others nor the fan-out.
   */
  async run(now: number, concurrency = 4): Promise<void> {
    const { db, owner, leaseMs } = this.deps;
    const free = concurrency - this.inFlight.size;
    if (free <= 0) return;
    for (const t of await tasks.unroutedBatches(db, now, free)) {
      const key = `${t.app_id}:${t.task_id}`;
      if (this.inFlight.has(key)) continue;
      const claimer = `${owner}-${randomHex(3)}`;
      const row = await tasks.claimUnrouted(db, t, claimer, Date.now(), leaseMs);
      if (!row) continue; // another process took it
      const routing = withLeaseRenewal(
        () => this.reroute(row.app_id, row.task_id, readMessage(row.message), Number(row.expires_at)),
        leaseMs / 3,
        () => tasks.renewRouteLeases(db, claimer, [{ appId: row.app_id, taskId: row.task_id }], Date.now() + leaseMs),
        (err) => this.deps.onError(err, 'batch push lease renewal'),
      )
        // counted, and tried again after a back-off; given up on at the bound
        .catch((err) => this.deps.failures.recordRouting({ appId: row.app_id, taskId: row.task_id }, err))
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, routing);
    }
  }

  /** Resolves when every push being taken over here is done (for shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.inFlight.values()]);
  }

  private async reroute(appId: number, taskId: string, message: StoredMessage, expiresAt: number): Promise<void> {
    // an expired push owes nothing more: the expiry sweep counts its unacked rows as lost
    if (expiresAt > Date.now()) {
      const rows = await inbox.unroutedRowsOf(this.deps.db, appId, taskId);
      const users = message.chat ? [...new Set(rows.flatMap((r) => (r.user_id === null ? [] : [r.user_id])))] : [];
      const badges = users.length > 0 && this.deps.unread ? await this.deps.unread(appId, users) : new Map<string, number>();
      const targets = rows.map((r): HandOverTarget => {
        const badge = r.user_id === null ? undefined : badges.get(r.user_id);
        return { registrationId: r.registration_id, seq: r.seq, locale: r.locale, ...(badge !== undefined ? { badge } : {}) };
      });
      await handOver(this.deps, appId, taskId, message, targets);
    }
    await tasks.transition(this.deps.db, appId, taskId, ['accepted'], 'routed');
  }
}

/** A stored push's message; one that cannot be read never will be (the push is given up on at once). */
function readMessage(json: string): StoredMessage {
  try {
    return JSON.parse(json) as StoredMessage;
  } catch (err) {
    throw new UnreadableTask(`stored push cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
}
