import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Delivery, Router } from '../cluster/index.js';
import type { Database } from '../store/index.js';
import { allocateSeqs, dailyPushes, events, inbox, tasks } from '../store/index.js';
import type { TasksTable } from '../store/schema.js';
import { LossReason } from '../stats/loss-reasons.js';
import { EventType } from '../stats/platforms.js';
import { lossEntries, type StatEntry, type StatsRecorder } from '../stats/recorder.js';
import { groupBy } from '../util/group-by.js';
import { FrameRenderer, type StoredMessage } from './message.js';
import { capAccount, localTime, parsePolicy, quietUntil, type PushPolicy } from './policy.js';
import { checkAudience, type Audience } from './audience.js';

/** An all-users or tag push as the fan-out and catch-up work with it. */
export class BroadcastTask {
  readonly appId: number;
  readonly taskId: string;
  readonly pushFlag: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly pushSpeed: number | null;
  readonly policy: PushPolicy;
  readonly audience: Audience;
  readonly message: StoredMessage;
  readonly renderer: FrameRenderer;

  constructor(row: Selectable<TasksTable>) {
    this.appId = row.app_id;
    this.taskId = row.task_id;
    this.pushFlag = Number(row.push_flag);
    this.createdAt = Number(row.created_at);
    this.expiresAt = Number(row.expires_at);
    this.pushSpeed = row.push_speed === null ? null : Number(row.push_speed);
    try {
      this.policy = parsePolicy(row.policy);
      this.audience = JSON.parse(row.audience ?? '{"all":true}') as Audience;
      // a task stored before the limits, or by hand, must not reach the SQL compiler
      checkAudience(this.audience);
      this.message = JSON.parse(row.message) as StoredMessage;
    } catch (err) {
      throw new UnreadableTask(`stored task cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.renderer = new FrameRenderer(row.task_id, this.message);
  }
}

/** A stored task whose audience or message cannot be read: trying again will not help. */
export class UnreadableTask extends Error {}

/** A targeted device, with what the decisions need. */
export interface Candidate {
  registration_id: string;
  user_id: string | null;
  locale: string | null;
  time_zone: string | null;
}

export interface BatchOutcome {
  /** False when the task may no longer send (recalled or expired meanwhile): nothing was written. */
  live: boolean;
  delivered: number;
  held: number;
  dropped: number;
}

interface Decided {
  send: { c: Candidate; after: number }[];
  drops: { c: Candidate; reason: LossReason }[];
}

/** Quiet hours and the daily cap, applied to devices about to get the message (one read for the cap). */
async function decide(db: Kysely<Database>, task: BroadcastTask, candidates: readonly Candidate[], now: number): Promise<Decided> {
  const out: Decided = { send: [], drops: [] };
  const timed = candidates.map((c) => {
    const after = quietUntil(task.policy, c.time_zone, now);
    return { c, after };
  });
  const limit = task.policy.dailyLimit ?? 0;
  const dayOf = (c: Candidate, after: number) => ({ account: capAccount(c.user_id, c.registration_id), day: localTime(after || now, c.time_zone).day });
  const got = limit > 0 ? await dailyPushes.pushesOn(db, task.appId, timed.map((t) => dayOf(t.c, t.after))) : new Map<string, Set<string>>();
  for (const t of timed) {
    // Held past its expiry: it would never be shown.
    if (t.after >= task.expiresAt) {
      out.drops.push({ c: t.c, reason: LossReason.quietHours });
      continue;
    }
    if (limit > 0) {
      const k = dailyPushes.dayKey(dayOf(t.c, t.after));
      let pushes = got.get(k);
      if (!pushes) got.set(k, (pushes = new Set()));
      // The cap counts pushes per user, not devices: another device of a user who got this push gets it too.
      if (!pushes.has(task.taskId) && pushes.size >= limit) {
        out.drops.push({ c: t.c, reason: LossReason.frequencyCap });
        continue;
      }
      pushes.add(task.taskId);
    }
    out.send.push(t);
  }
  return out;
}

/**
 * Puts one task's message in the inboxes of a batch of targeted devices in one transaction, and
 * hands the ones due now to their sessions after it commits. The same code serves a fan-out page
 * (devices online when it ran) and a catch-up (devices that just connected). `extra` runs in the
 * same transaction: a page's shard progress commits with its rows, so a crash repeats nothing.
 */
export async function deliverBroadcastBatch(
  db: Kysely<Database>,
  router: Router,
  stats: StatsRecorder,
  task: BroadcastTask,
  candidates: readonly Candidate[],
  now: number,
  extra?: (tx: Transaction<Database>) => Promise<{ dropped: number; stats: StatEntry[] }>,
): Promise<BatchOutcome> {
  const d = await decide(db, task, candidates, now);
  let written = new Map<string, number>();
  const outcome = await db.transaction().execute(async (tx) => {
    const counts = new Map<string, number>();
    for (const s of d.send) counts.set(s.c.registration_id, 1);
    const last = await allocateSeqs(tx, task.appId, counts);
    const rows = d.send
      .filter((s) => last.has(s.c.registration_id))
      .map((s) => ({
        app_id: task.appId,
        registration_id: s.c.registration_id,
        seq: last.get(s.c.registration_id)!,
        task_id: task.taskId,
        online_only: task.pushFlag,
        created_at: now,
        expires_at: task.expiresAt,
        acked_at: null,
        deliver_after: s.after,
      }));
    written = await inbox.insertInboxOnce(tx, rows);
    const sent = d.send.filter((s) => written.has(s.c.registration_id));
    if ((task.policy.dailyLimit ?? 0) > 0) {
      await dailyPushes.recordPushes(tx, task.appId, task.taskId, sent.map((s) => ({ account: capAccount(s.c.user_id, s.c.registration_id), day: localTime(s.after || now, s.c.time_zone).day })));
    }
    await events.insertLosses(
      tx,
      d.drops.map(({ c, reason }) => ({ app_id: task.appId, task_id: task.taskId, registration_id: c.registration_id, user_id: c.user_id, stage: reason.stage, code: reason.code, reason: reason.reason, created_at: now })),
    );
    const more = extra ? await extra(tx) : { dropped: 0, stats: [] };
    const extraDropped = more.dropped;
    // the gateway channel: every row written and every device decided against is sendable there
    const base = { appId: task.appId, taskId: task.taskId, eventType: EventType.online, at: now };
    await stats.write(tx, [
      { ...base, metric: 'sendable', count: written.size, platform: 0 },
      ...[...groupBy(d.drops, (x) => x.reason.code).values()].flatMap((list) =>
        lossEntries(base, list[0]!.reason, { devices: list.map(({ c }) => ({ registrationId: c.registration_id, userId: c.user_id, platform: 0 })) }, true),
      ),
      ...more.stats,
    ]);
    const live = await tasks.countDecisions(tx, task.appId, task.taskId, written.size, d.drops.length + extraDropped);
    if (!live) throw new TaskStopped();
    return { live: true, delivered: 0, held: sent.filter((s) => s.after > 0).length, dropped: d.drops.length + extraDropped };
  }).catch((err: unknown) => {
    if (err instanceof TaskStopped) return { live: false, delivered: 0, held: 0, dropped: 0 };
    throw err;
  });
  if (!outcome.live) return outcome;
  const deliveries: Delivery[] = [];
  for (const s of d.send) {
    const seq = written.get(s.c.registration_id);
    if (seq !== undefined && s.after === 0) deliveries.push({ registrationId: s.c.registration_id, seq, frame: task.renderer.frame(seq, s.c.locale) });
  }
  await router.deliver(task.appId, deliveries);
  outcome.delivered = deliveries.length;
  return outcome;
}

class TaskStopped extends Error {}
