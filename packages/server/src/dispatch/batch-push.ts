import type { Kysely, Transaction } from 'kysely';
import type { Router } from '../cluster/index.js';
import type { OfflineChannels } from '../channels/index.js';
import type { Database } from '../store/index.js';
import { allocateSeqs, devices as deviceStore, events, inbox, tasks } from '../store/index.js';
import type { InboxRow } from '../store/inbox.js';
import type { LossRow } from '../store/events.js';
import { LossReason } from '../stats/loss-reasons.js';
import { EventType } from '../stats/platforms.js';
import { lossEntries, type LossRule, type StatEntry, type StatsRecorder } from '../stats/recorder.js';
import type { CallMeta, ChatMeta, StoredMessage } from './message.js';
import { handOver, type HandOverTarget } from './hand-over.js';
import type { OfflinePushInfo } from './offline-push-info.js';
import { newTaskId } from './task-id.js';
import { groupBy } from '../util/group-by.js';

export interface BatchPushRequest {
  /** Single and batch push (the default), chat message push, or call invitation. */
  kind?: 'batch' | 'chat' | 'call';
  from: string;
  to: readonly string[];
  msgRandom: number;
  info: OfflinePushInfo;
  dataId?: string;
  /** Herald extension: seconds the message may wait in an inbox (default from config). */
  expireSeconds?: number;
  /** The request as received, kept with the task. */
  raw: unknown;
  chat?: ChatMeta;
  call?: CallMeta;
  /** What identifies a repeated request of this kind, when MsgRandom alone does not (default MsgRandom). */
  dedupeKey?: number;
}

/**
 * Who among a chat push's recipients is not to be notified (a muted conversation, do-not-disturb
 * hours), and the unread badges chat pushes count up.
 */
export interface ChatRecipients {
  /** For each chat push of one flush, the users not to notify, each with the loss reason their devices are counted under. */
  drop(appId: number, asks: readonly { chat: ChatMeta; users: readonly string[] }[], now: number): Promise<Map<string, LossRule>[]>;
  /** Adds to each user's unread count, in the flush's transaction; returns the new counts. */
  countUnread(tx: Transaction<Database>, appId: number, amounts: ReadonlyMap<string, number>, now: number): Promise<Map<string, number>>;
  /** Each user's unread count now (a push taken over after a crash sets the badge from it). */
  unread(appId: number, users: readonly string[]): Promise<Map<string, number>>;
}

export interface BatchPushResult {
  taskId: string;
  /** Accounts that matched no device (Tencent 70107). */
  missing: string[];
  /** True when MsgRandom repeated an earlier call in the window and nothing new was sent. */
  duplicate: boolean;
}

export interface BatchPushDeps {
  stats: StatsRecorder;
  db: Kysely<Database>;
  router: Router;
  offline: OfflineChannels;
  defaultExpireSeconds: number;
  msgRandomWindowSeconds: number;
  /** Records that the task was handed to every session and vendor (written in batches by the caller). */
  markRouted(appId: number, taskId: string): void;
  /** This process, as the holder of the routing leases of the pushes it accepts. */
  owner: string;
  /** How long a push may be routed without a sign of life before another process takes it over. */
  leaseMs: number;
  onError(err: unknown, context: string): void;
  /** Mute, do-not-disturb and badges of chat pushes (none: every recipient is notified, no badge). */
  chatRecipients?: ChatRecipients;
}

interface Pending {
  appId: number;
  req: BatchPushRequest;
  resolve(r: BatchPushResult): void;
  reject(err: unknown): void;
}

/** One request inside a flush, with what the flush worked out for it. */
interface Planned {
  p: Pending;
  taskId: string;
  message: StoredMessage;
  targets: deviceStore.TargetDevice[];
  missing: string[];
  /** Devices that get an inbox row (all targets, or the online ones for PushFlag 1). */
  reachable: deviceStore.TargetDevice[];
  unreachable: deviceStore.TargetDevice[];
  /** Devices whose user is not to be notified (chat pushes), with why. */
  dropped: { t: deviceStore.TargetDevice; rule: LossRule }[];
  /** Unread counts of the notified users (chat pushes). */
  badges: Map<string, number>;
  seqs: Map<string, number>;
  /** Set when the MsgRandom belongs to an earlier task: this request sends nothing. */
  priorTaskId?: string;
}

const MAX_PER_FLUSH = 200;

/**
 * Single and batch push by UserID or RegistrationID (`v4/timpush/batch`). Requests that arrive
 * together are stored together: one transaction (one commit, one fsync) per flush holds every
 * task, every targeted device's inbox row and every loss, with one statement per kind of row. Each
 * caller gets its TaskId only after that commit; routing to live sessions follows it.
 */
export class BatchPushAcceptor {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private routing = new Set<Promise<void>>();
  /** Pushes being routed here, whose leases are renewed while they are. */
  private leased = new Set<{ appId: number; taskId: string }>();
  private renewal: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;

  constructor(private deps: BatchPushDeps) {}

  submit(appId: number, req: BatchPushRequest): Promise<BatchPushResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ appId, req, resolve, reject });
      // the requests parsed in this turn of the event loop join the same flush
      this.flushing ??= new Promise<void>((done) => setImmediate(() => void this.drain().finally(done)));
    });
  }

  /** Resolves when every accepted request is stored and routed (for shutdown). */
  async idle(): Promise<void> {
    while (this.flushing || this.routing.size > 0) {
      await this.flushing;
      await Promise.all([...this.routing]);
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_PER_FLUSH);
      try {
        await this.accept(batch);
      } catch {
        // One bad request must not fail the others: store them one by one.
        for (const p of batch) await this.accept([p]).catch((err) => p.reject(err));
      }
    }
    this.flushing = null;
  }

  private async accept(batch: Pending[], now = Date.now()): Promise<void> {
    const plans = await this.plan(batch, now);
    await this.deps.db.transaction().execute((tx) => this.store(tx, plans, now));
    for (const pl of plans) {
      const result = { taskId: pl.priorTaskId ?? pl.taskId, missing: pl.missing, duplicate: pl.priorTaskId !== undefined };
      pl.p.resolve(result);
      if (!result.duplicate) {
        const routed: Promise<void> = new Promise<void>((r) => setImmediate(r))
          .then(() => this.route(pl))
          .catch((err) => this.deps.onError(err, 'batch push routing'))
          .finally(() => this.routing.delete(routed));
        this.routing.add(routed);
      }
    }
  }

  /** Resolves every request's audience with one pair of lookups per app. */
  private async plan(batch: Pending[], now: number): Promise<Planned[]> {
    const byApp = new Map<number, Set<string>>();
    for (const p of batch) {
      let set = byApp.get(p.appId);
      if (!set) byApp.set(p.appId, (set = new Set()));
      for (const a of p.req.to) set.add(a);
    }
    const found = new Map<number, { byUser: Map<string, deviceStore.TargetDevice[]>; byId: Map<string, deviceStore.TargetDevice> }>();
    for (const [appId, accounts] of byApp) {
      const list = await deviceStore.findTargets(this.deps.db, appId, [...accounts]);
      const byUser = new Map<string, deviceStore.TargetDevice[]>();
      const byId = new Map<string, deviceStore.TargetDevice>();
      for (const d of list) {
        byId.set(d.registration_id, d);
        if (d.user_id !== null) {
          const u = byUser.get(d.user_id);
          if (u) u.push(d);
          else byUser.set(d.user_id, [d]);
        }
      }
      found.set(appId, { byUser, byId });
    }

    const resolved = batch.map((p) => {
      const f = found.get(p.appId)!;
      const targets = new Map<string, deviceStore.TargetDevice>();
      const missing: string[] = [];
      for (const a of new Set(p.req.to)) {
        const hits = [...(f.byUser.get(a) ?? []), ...(f.byId.has(a) ? [f.byId.get(a)!] : [])];
        if (hits.length === 0) missing.push(a);
        for (const d of hits) targets.set(d.registration_id, d);
      }
      return { p, targets: [...targets.values()], missing };
    });
    const drops = await this.chatDrops(resolved, now);

    const plans: Planned[] = [];
    for (const { p, targets, missing } of resolved) {
      const drop = drops.get(p) ?? new Map<string, LossRule>();
      const dropped: Planned['dropped'] = [];
      for (const t of targets) {
        const rule = t.user_id === null ? undefined : drop.get(t.user_id);
        if (rule) dropped.push({ t, rule });
      }
      const all = dropped.length > 0 ? targets.filter((t) => t.user_id === null || !drop.has(t.user_id)) : targets;
      const chat = p.req.chat;
      let reachable = all;
      let unreachable: deviceStore.TargetDevice[] = [];
      if (p.req.info.PushFlag === 1) {
        const online = await this.deps.router.online(p.appId, all.map((t) => t.registration_id));
        reachable = all.filter((t) => online.has(t.registration_id));
        unreachable = all.filter((t) => !online.has(t.registration_id));
      }
      const expiresAt = now + (p.req.expireSeconds ?? this.deps.defaultExpireSeconds) * 1000;
      plans.push({
        p,
        taskId: newTaskId(p.req.kind ?? 'batch', p.appId, p.req.msgRandom, now),
        message: { from: p.req.from, sentAt: now, expiresAt, info: p.req.info, ...(chat ? { chat } : {}), ...(p.req.call ? { call: p.req.call } : {}) },
        targets,
        missing,
        reachable,
        unreachable,
        dropped,
        badges: new Map(),
        seqs: new Map(),
      });
    }
    return plans;
  }

  /** Who of each chat push's users is not to be notified: one batched ask per app for the whole flush. */
  private async chatDrops(resolved: { p: Pending; targets: deviceStore.TargetDevice[] }[], now: number): Promise<Map<Pending, Map<string, LossRule>>> {
    const out = new Map<Pending, Map<string, LossRule>>();
    const recipients = this.deps.chatRecipients;
    if (!recipients) return out;
    const asking = resolved.flatMap(({ p, targets }) => (p.req.chat ? [{ p, chat: p.req.chat, users: usersOf(targets) }] : []));
    for (const [appId, asks] of groupBy(asking, (a) => a.p.appId)) {
      const answers = await recipients.drop(appId, asks, now);
      asks.forEach((a, i) => out.set(a.p, answers[i]!));
    }
    return out;
  }

  private async store(tx: Transaction<Database>, plans: Planned[], now: number): Promise<void> {
    // MsgRandom: the first request of a flush claims; repeats within the flush follow it.
    const leaders = new Map<string, Planned>();
    const claims = new Map<Planned, tasks.MsgRandomClaim>();
    const claimKey = (pl: Planned) => `${pl.p.appId}:${pl.p.req.kind ?? 'batch'}:${pl.p.req.dedupeKey ?? pl.p.req.msgRandom}`;
    for (const pl of plans) {
      const key = claimKey(pl);
      const leader = leaders.get(key);
      if (leader) pl.priorTaskId = leader.taskId;
      else {
        leaders.set(key, pl);
        claims.set(pl, { appId: pl.p.appId, kind: pl.p.req.kind ?? 'batch', msgRandom: pl.p.req.dedupeKey ?? pl.p.req.msgRandom, taskId: pl.taskId });
      }
    }
    const lost = await tasks.claimMsgRandoms(tx, [...claims.values()], now, this.deps.msgRandomWindowSeconds * 1000);
    for (const [pl, claim] of claims) {
      const prior = lost.get(claim);
      if (prior !== undefined) pl.priorTaskId = prior;
    }
    // a follower of a leader that lost its claim returns the earlier task too
    for (const pl of plans) {
      const leader = leaders.get(claimKey(pl))!;
      if (leader !== pl && leader.priorTaskId !== undefined) pl.priorTaskId = leader.priorTaskId;
    }
    const fresh = plans.filter((pl) => pl.priorTaskId === undefined);

    await tasks.insertTasks(
      tx,
      fresh.map((pl) => ({
        app_id: pl.p.appId,
        task_id: pl.taskId,
        kind: pl.p.req.kind ?? 'batch',
        status: 'accepted',
        msg_random: pl.p.req.msgRandom,
        from_account: pl.p.req.from,
        data_id: pl.p.req.dataId ?? null,
        push_flag: pl.p.req.info.PushFlag,
        message: JSON.stringify(pl.message),
        request: JSON.stringify(pl.p.req.raw),
        target_count: pl.targets.length,
        created_at: now,
        expires_at: pl.message.expiresAt,
        // routed by this process; if it dies midway, another takes over once the lease lapses
        lease_owner: this.deps.owner,
        lease_until: now + this.deps.leaseMs,
      })),
    );

    // Seqs: a device targeted by several requests of the flush gets consecutive seqs, in request order.
    const rows: InboxRow[] = [];
    for (const [appId, list] of groupBy(fresh, (pl) => pl.p.appId)) {
      const counts = new Map<string, number>();
      for (const pl of list) for (const t of pl.reachable) counts.set(t.registration_id, (counts.get(t.registration_id) ?? 0) + 1);
      const last = await allocateSeqs(tx, appId, counts);
      const next = new Map<string, number>();
      for (const [id, top] of last) next.set(id, top - counts.get(id)! + 1);
      for (const pl of list) {
        for (const t of pl.reachable) {
          const seq = next.get(t.registration_id);
          if (seq === undefined) continue; // unregistered since the lookup: nothing to deliver
          next.set(t.registration_id, seq + 1);
          pl.seqs.set(t.registration_id, seq);
          rows.push({ app_id: appId, registration_id: t.registration_id, seq, task_id: pl.taskId, online_only: pl.p.req.info.PushFlag, created_at: now, expires_at: pl.message.expiresAt, acked_at: null });
        }
      }
    }
    await inbox.insertInbox(tx, rows);
    await this.countUnread(tx, fresh, now);

    // the gateway channel: each inbox row is sendable there; online-only devices that were offline,
    // and users who muted the conversation or are in their do-not-disturb hours, are lost before it
    const losses: LossRow[] = [];
    const counted: StatEntry[] = [];
    for (const pl of fresh) {
      const base = { appId: pl.p.appId, taskId: pl.taskId, eventType: EventType.online, at: now };
      counted.push({ ...base, metric: 'sendable' as const, count: pl.seqs.size, platform: 0 });
      const lost = [...pl.unreachable.map((t) => ({ t, rule: LossReason.offlineOnlineOnly as LossRule })), ...pl.dropped];
      for (const [rule, list] of groupBy(lost, (l) => l.rule)) {
        for (const { t } of list) losses.push({ app_id: pl.p.appId, task_id: pl.taskId, registration_id: t.registration_id, user_id: t.user_id, stage: rule.stage, code: rule.code, reason: rule.reason, created_at: now });
        counted.push(...lossEntries(base, rule, { devices: list.map(({ t }) => ({ registrationId: t.registration_id, userId: t.user_id, platform: 0 })) }, true));
      }
    }
    await events.insertLosses(tx, losses);
    await this.deps.stats.write(tx, counted);
  }

  /**
   * Chat pushes count up the unread badge of every user they notify, in the flush's transaction:
   * one upsert per app, and a user notified by several pushes of the flush sees the count rise
   * one by one, in request order.
   */
  private async countUnread(tx: Transaction<Database>, fresh: Planned[], now: number): Promise<void> {
    const counter = this.deps.chatRecipients;
    if (!counter) return;
    const chats = fresh.flatMap((pl) => (pl.p.req.chat ? [{ pl, users: usersOf(pl.reachable.filter((t) => pl.seqs.has(t.registration_id))) }] : []));
    for (const [appId, list] of groupBy(chats, (c) => c.pl.p.appId)) {
      const amounts = new Map<string, number>();
      for (const { users } of list) for (const u of users) amounts.set(u, (amounts.get(u) ?? 0) + 1);
      if (amounts.size === 0) continue;
      const totals = await counter.countUnread(tx, appId, amounts, now);
      const seen = new Map<string, number>();
      for (const { pl, users } of list) {
        for (const u of users) {
          seen.set(u, (seen.get(u) ?? 0) + 1);
          pl.badges.set(u, totals.get(u)! - amounts.get(u)! + seen.get(u)!);
        }
      }
    }
  }

  /** Hands the frames to live sessions; PushFlag 0 devices without one go to the offline channels. */
  private async route(pl: Planned): Promise<void> {
    const appId = pl.p.appId;
    const targets: HandOverTarget[] = [];
    for (const t of pl.reachable) {
      const seq = pl.seqs.get(t.registration_id);
      const badge = t.user_id === null ? undefined : pl.badges.get(t.user_id);
      if (seq !== undefined) targets.push({ registrationId: t.registration_id, seq, locale: t.locale, ...(badge !== undefined ? { badge } : {}) });
    }
    const key = { appId, taskId: pl.taskId };
    this.leased.add(key);
    this.renewLeases();
    try {
      await handOver(this.deps, appId, pl.taskId, pl.message, targets);
    } finally {
      this.leased.delete(key);
    }
    this.deps.markRouted(appId, pl.taskId);
  }

  /**
   * While pushes are being routed (slow vendors), their leases are extended together, one
   * statement per app, so no other process takes one over as abandoned.
   */
  private renewLeases(): void {
    if (this.renewal) return;
    const every = this.deps.leaseMs / 3;
    this.renewal = setInterval(() => {
      if (this.leased.size === 0) {
        clearInterval(this.renewal!);
        this.renewal = null;
        return;
      }
      if (this.renewing) return;
      this.renewing = tasks
        .renewRouteLeases(this.deps.db, this.deps.owner, [...this.leased], Date.now() + this.deps.leaseMs)
        .catch((err) => this.deps.onError(err, 'batch push lease renewal'))
        .finally(() => (this.renewing = null));
    }, every);
    this.renewal.unref();
  }
}

/** The distinct users of these devices (devices with no user have no badge or settings). */
function usersOf(devices: readonly deviceStore.TargetDevice[]): string[] {
  return [...new Set(devices.flatMap((t) => (t.user_id === null ? [] : [t.user_id])))];
}
