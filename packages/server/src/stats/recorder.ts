import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/index.js';
import { hourOf, type Counter, type Metric } from '../store/stat-counters.js';
import { statCounters } from '../store/index.js';
import { Batcher } from '../util/batcher.js';
import { chunks } from '../util/chunks.js';
import { platformOf, EventType } from './platforms.js';
import { familyOf } from '../dispatch/task-id.js';
import type { CallbackCommand } from '../callbacks/events.js';
import type { EventGroup } from '../callbacks/compact.js';
import { allMemberPushGroup, offlinePushGroup, TaskFactsCache, type GroupStep, type StepDevice } from './callback-events.js';

type Db = Transaction<Database> | Kysely<Database>;

/**
 * One device an event happened to. `platform` is the event's PushPlatform (0 for the gateway);
 * `userId` null = the device has no user, absent = not known here (looked up for callbacks);
 * `devicePlatform`, its vendor's number, when known.
 */
export interface StatDevice {
  registrationId: string;
  userId?: string | null;
  platform: number;
  devicePlatform?: number;
}

/**
 * Something that happened to some devices of one push: counted in the funnel (per hour, channel,
 * platform), told to the app's callback, and, for `trace` steps, kept per device for the message link.
 */
export interface StatEntry {
  appId: number;
  taskId: string;
  /** 0 = all-users, tag and single pushes; 1 = chat message and call pushes. Absent = read from `taskId`. */
  family?: number;
  eventType: EventType;
  metric: Metric;
  /** Loss reason code (losses only). */
  code?: number;
  reason?: string;
  at?: number;
  /** The devices it happened to; or, when they are not known one by one, `count` on `platform`. */
  devices?: readonly StatDevice[];
  platform?: number;
  count?: number;
  /** Keep a trace_events row per device under this step name. */
  trace?: string;
  /** The trace row's detail (vendor, certificate, answer). */
  info?: string;
}

/** Where per-device events go for the app's backend (callbacks/): asked and written inside the recorder's transaction. */
export interface CallbackSink {
  wants(appId: number, via: Db): Promise<boolean>;
  enqueueGroups(db: Db, appId: number, command: CallbackCommand, groups: readonly EventGroup[]): Promise<void>;
}

export interface RecorderOptions {
  /** False: nothing is counted, traced or told (for measuring what statistics cost). */
  enabled?: boolean;
  callbacks?: CallbackSink;
  /** Trace rows kept per task and process; past it, steps are only counted (default 200,000). */
  traceLimitPerTask?: number;
  /** How long buffered entries wait before they are written (ms, default 500). */
  flushMs?: number;
  onError: (err: unknown) => void;
}

/** Whoever made the entry (gateway acks, clicks, vendor sends, expiry, recall) need not know the family: the task id says it. */
const familyOfEntry = (e: StatEntry): number => e.family ?? familyOf(e.taskId);

/** Tencent's PushStage (reference §5.1): 1 sent, 2 reached, 3 clicked. A loss is told at the stage it stopped. */
const STAGE: Partial<Record<Metric, 1 | 2 | 3>> = { sent: 1, loss_ready: 1, reached: 2, loss_post: 2, clicked: 3 };

/**
 * Statistics on the hot path: callers hand over what happened to a batch of devices; it becomes a
 * few counter upserts (stat_counters), trace rows and callback rows per write, never a write per
 * event. Inside a caller's transaction (`write`) the counts commit with the change they count;
 * `add` buffers for up to `flushMs` and writes in a transaction of its own.
 */
export class StatsRecorder {
  private buffered: Batcher<StatEntry>;
  private traced = new Map<string, number>();
  private tasks = new TaskFactsCache();

  constructor(
    private db: Kysely<Database>,
    private opts: RecorderOptions,
  ) {
    this.buffered = new Batcher((entries) => this.db.transaction().execute((tx) => this.write(tx, entries)), opts.onError, opts.flushMs ?? 500, 5000);
  }

  add(entries: readonly StatEntry[]): void {
    if (this.opts.enabled === false) return;
    for (const e of entries) this.buffered.add(e);
  }

  flush(): Promise<void> {
    return this.buffered.flush();
  }

  /** Writes these entries now, in the caller's transaction. */
  async write(tx: Db, entries: readonly StatEntry[]): Promise<void> {
    if (this.opts.enabled === false) return;
    const now = Date.now();
    const counters: Counter[] = [];
    for (const e of entries) {
      const base = { appId: e.appId, family: familyOfEntry(e), taskId: e.taskId, hour: hourOf(e.at ?? now), eventType: e.eventType, metric: e.metric, code: e.code ?? 0, reason: e.reason ?? '' };
      if (e.devices) {
        // one counter per platform, not per device
        const perPlatform = new Map<number, number>();
        for (const d of e.devices) perPlatform.set(d.platform, (perPlatform.get(d.platform) ?? 0) + 1);
        for (const [platform, count] of perPlatform) counters.push({ ...base, platform, count });
      } else if (e.count) counters.push({ ...base, platform: e.platform ?? 0, count: e.count });
    }
    await statCounters.addCounters(tx, counters);
    await this.writeTrace(tx, entries, now);
    await this.writeCallbacks(tx, entries, now);
  }

  private async writeTrace(tx: Db, entries: readonly StatEntry[], now: number): Promise<void> {
    const limit = this.opts.traceLimitPerTask ?? 200_000;
    const rows = [];
    for (const e of entries) {
      if (!e.trace || !e.devices) continue;
      const key = `${e.appId}:${e.taskId}`;
      const room = limit - (this.traced.get(key) ?? 0);
      const kept = e.devices.slice(0, Math.max(0, room));
      if (kept.length === 0) continue;
      this.traced.set(key, (this.traced.get(key) ?? 0) + kept.length);
      if (this.traced.size > 10_000) this.traced.clear();
      for (const d of kept) {
        rows.push({ app_id: e.appId, task_id: e.taskId, registration_id: d.registrationId, at: e.at ?? now, step: e.trace, event_type: e.eventType, platform: d.platform, code: e.code ?? 0, info: (e.info ?? e.reason ?? '').slice(0, 500) });
      }
    }
    for (const part of chunks(rows, 500)) await tx.insertInto('trace_events').values(part).execute();
  }

  private async writeCallbacks(tx: Db, entries: readonly StatEntry[], now: number): Promise<void> {
    const sink = this.opts.callbacks;
    if (!sink) return;
    const byApp = new Map<number, StatEntry[]>();
    for (const e of entries) {
      if (!e.devices || e.devices.length === 0 || STAGE[e.metric] === undefined) continue;
      const list = byApp.get(e.appId);
      if (list) list.push(e);
      else byApp.set(e.appId, [e]);
    }
    for (const [appId, list] of byApp) {
      if (!(await sink.wants(appId, tx))) continue;
      const devices = await this.deviceInfo(tx, appId, list);
      // chat and call pushes are told as Tencent tells chat message pushes, the rest as AllMemberPush;
      // each entry is one group of events (callbacks/compact.ts), with no object per device
      const allMember: EventGroup[] = [];
      const offline: EventGroup[] = [];
      for (const e of list) {
        const facts = await this.tasks.get(tx, appId, e.taskId);
        const lost = e.metric.startsWith('loss');
        const step: GroupStep = {
          eventType: e.eventType,
          // seconds, as Tencent's callback times (trtc.io/document/67551, 67552)
          eventTime: Math.floor((e.at ?? now) / 1000),
          stage: STAGE[e.metric]!,
          errCode: lost ? (e.code ?? 0) : 0,
          errInfo: lost ? (e.reason ?? '') : '',
        };
        const rows = e.devices!.map((d): StepDevice => {
          const dev = d.userId !== undefined && d.devicePlatform !== undefined ? undefined : devices.get(d.registrationId);
          return [d.userId ?? dev?.userId ?? '', d.registrationId, d.platform, d.devicePlatform ?? dev?.platform ?? d.platform];
        });
        if (familyOfEntry(e) === 1) offline.push(offlinePushGroup(e.taskId, step, facts, rows));
        else allMember.push(allMemberPushGroup(e.taskId, step, facts, rows));
      }
      await sink.enqueueGroups(tx, appId, 'Push.AllMemberPush', allMember);
      await sink.enqueueGroups(tx, appId, 'Push.OfflinePush', offline);
    }
  }

  /** The user and the vendor platform of each device the entries do not say, in one query per 500. */
  private async deviceInfo(tx: Db, appId: number, list: readonly StatEntry[]): Promise<Map<string, { userId: string | null; platform: number }>> {
    const ids = [...new Set(list.flatMap((e) => e.devices!.filter((d) => d.userId === undefined || d.devicePlatform === undefined).map((d) => d.registrationId)))];
    const out = new Map<string, { userId: string | null; platform: number }>();
    for (const part of chunks(ids, 500)) {
      const rows = await tx.selectFrom('devices').select(['registration_id', 'user_id', 'vendor']).where('app_id', '=', appId).where('registration_id', 'in', part).execute();
      for (const r of rows) out.set(r.registration_id, { userId: r.user_id, platform: platformOf(r.vendor) });
    }
    return out;
  }
}

export type LossRule = { code: number; stage: string; reason: string };

/**
 * A loss of these devices (or of `count` devices on `platform`). `newlyTargeted`: the devices were
 * decided against before anything else counted them, so they are also sendable (a device written
 * to an inbox is counted sendable when its row is written, and its later loss is not).
 */
export function lossEntries(
  base: { appId: number; taskId: string; eventType: EventType; at?: number; family?: number },
  r: LossRule,
  who: { devices: readonly StatDevice[] } | { count: number; platform: number },
  newlyTargeted: boolean,
): StatEntry[] {
  const n = 'devices' in who ? who.devices.length : who.count;
  if (n === 0) return [];
  const metric: Metric = r.stage === 'post_send' ? 'loss_post' : 'loss_ready';
  const out: StatEntry[] = [{ ...base, metric, code: r.code, reason: r.reason, ...who }];
  if (newlyTargeted) out.push({ ...base, metric: 'sendable', ...('devices' in who ? { devices: who.devices.map((d) => ({ ...d })) } : who) });
  return out;
}
