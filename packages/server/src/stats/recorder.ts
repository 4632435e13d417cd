import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../store/index.js';
import type { Dialect } from '../store/db.js';
import { relaxedTransaction } from '../store/relaxed-transaction.js';
import { hourOf, type Counter, type Metric } from '../store/stat-counters.js';
import { statCounters } from '../store/index.js';
import { Batcher } from '../util/batcher.js';
import { chunks } from '../util/chunks.js';
import { groupBy } from '../util/group-by.js';
import { platformOf, EventType } from './platforms.js';
import { familyOf } from '../dispatch/task-id.js';
import { MAX_EVENTS_PER_ROW, type CallbackCommand } from '../callbacks/events.js';
import { packGroups, type EventGroup, type PackedRow } from '../callbacks/compact.js';
import { allMemberPushGroup, offlinePushGroup, TaskFactsCache, type GroupStep, type StepDevices } from './callback-events.js';

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

/** Where per-device events go for the app's backend (callbacks/): asked before, and written inside, the recorder's transaction. */
export interface CallbackSink {
  wants(appId: number, via: Db): Promise<boolean>;
  /** Stores row bodies already packed (callbacks/compact.ts packGroups). */
  enqueuePacked(db: Db, appId: number, command: CallbackCommand, rows: readonly PackedRow[]): Promise<void>;
}

export interface RecorderOptions {
  /** The store's: the recorder's own transactions commit without waiting for the disk (store/relaxed-transaction.ts). */
  dialect: Dialect;
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

type TraceRow = Insertable<Database['trace_events']>;

/** What some entries come to in the store: counter increments, trace rows and callback rows. */
interface Writes {
  counters: Counter[];
  trace: TraceRow[];
  callbacks: { appId: number; command: CallbackCommand; rows: PackedRow[] }[];
}

/**
 * Statistics on the hot path: callers hand over what happened to a batch of devices; it becomes a
 * few counter upserts (stat_counters), trace rows and callback rows per write, never a write per
 * event. Inside a caller's transaction (`write`) the counts commit with the change they count;
 * `add` turns the entries into those rows at once (so a large push's per-device objects die young,
 * rather than wait in memory for the write) and writes them within `flushMs`, in a transaction of
 * its own that does not wait for the disk: they were only in memory until then.
 */
export class StatsRecorder {
  private buffered: Batcher<Writes>;
  /** Entries handed to `add` still being turned into rows, one batch after another, in order. */
  private preparing: Promise<void> = Promise.resolve();
  private traced = new Map<string, number>();
  private tasks = new TaskFactsCache();
  /** `${appId}:${taskId}` → registration id → the device's facts for that push (deviceInfo). */
  private devices = new Map<string, Map<string, DeviceFacts>>();
  private cachedDevices = 0;

  constructor(
    private db: Kysely<Database>,
    private opts: RecorderOptions,
  ) {
    this.buffered = new Batcher((list) => relaxedTransaction(db, opts.dialect, (tx) => this.store(tx, list)), opts.onError, opts.flushMs ?? 500, 200);
  }

  add(entries: readonly StatEntry[]): void {
    if (this.opts.enabled === false || entries.length === 0) return;
    const now = Date.now();
    // reads outside any transaction (task facts, callback settings): never inside a caller's
    this.preparing = this.preparing.then(() => this.prepare(this.db, entries, now).then((w) => this.buffered.add(w), this.opts.onError));
  }

  async flush(): Promise<void> {
    await this.preparing;
    await this.buffered.flush();
  }

  /** Writes these entries now, in the caller's transaction. */
  async write(tx: Db, entries: readonly StatEntry[]): Promise<void> {
    if (this.opts.enabled === false) return;
    await this.store(tx, [await this.prepare(tx, entries, Date.now())]);
  }

  private async prepare(db: Db, entries: readonly StatEntry[], now: number): Promise<Writes> {
    return { counters: countersOf(entries, now), trace: this.traceRows(entries, now), callbacks: await this.callbackRows(db, entries, now) };
  }

  private async store(tx: Db, list: readonly Writes[]): Promise<void> {
    await statCounters.addCounters(tx, list.flatMap((w) => w.counters));
    for (const part of chunks(list.flatMap((w) => w.trace), 500)) await tx.insertInto('trace_events').values(part).execute();
    const sink = this.opts.callbacks;
    if (!sink) return;
    // one insert for all of an app's rows, not one per batch handed to `add`
    const byApp = groupBy(list.flatMap((w) => w.callbacks), (c) => `${c.appId}\u0000${c.command}`);
    for (const cs of byApp.values()) await sink.enqueuePacked(tx, cs[0]!.appId, cs[0]!.command, cs.flatMap((c) => c.rows));
  }

  private traceRows(entries: readonly StatEntry[], now: number): TraceRow[] {
    const limit = this.opts.traceLimitPerTask ?? 200_000;
    const rows: TraceRow[] = [];
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
    return rows;
  }

  /** The entries' events for each app that wants them, packed into outbox rows. */
  private async callbackRows(db: Db, entries: readonly StatEntry[], now: number): Promise<Writes['callbacks']> {
    const out: Writes['callbacks'] = [];
    const sink = this.opts.callbacks;
    if (!sink) return out;
    const byApp = new Map<number, StatEntry[]>();
    for (const e of entries) {
      if (!e.devices || e.devices.length === 0 || STAGE[e.metric] === undefined) continue;
      const list = byApp.get(e.appId);
      if (list) list.push(e);
      else byApp.set(e.appId, [e]);
    }
    for (const [appId, list] of byApp) {
      if (!(await sink.wants(appId, db))) continue;
      const devicesOf = await this.deviceInfo(db, appId, list);
      // chat and call pushes are told as Tencent tells chat message pushes, the rest as AllMemberPush;
      // each entry is one group of events (callbacks/compact.ts), with no object per device
      const allMember: EventGroup[] = [];
      const offline: EventGroup[] = [];
      for (const e of list) {
        const facts = await this.tasks.get(db, appId, e.taskId);
        const lost = e.metric.startsWith('loss');
        const step: GroupStep = {
          eventType: e.eventType,
          // seconds, as Tencent's callback times (trtc.io/document/67551, 67552)
          eventTime: Math.floor((e.at ?? now) / 1000),
          stage: STAGE[e.metric]!,
          errCode: lost ? (e.code ?? 0) : 0,
          errInfo: lost ? (e.reason ?? '') : '',
        };
        const known = devicesOf(e.taskId);
        const cols = stepDevices(e.devices!, (d) => known?.get(d.registrationId));
        if (familyOfEntry(e) === 1) offline.push(offlinePushGroup(e.taskId, step, facts, cols));
        else allMember.push(allMemberPushGroup(e.taskId, step, facts, cols));
      }
      if (allMember.length > 0) out.push({ appId, command: 'Push.AllMemberPush', rows: packGroups(allMember, MAX_EVENTS_PER_ROW) });
      if (offline.length > 0) out.push({ appId, command: 'Push.OfflinePush', rows: packGroups(offline, MAX_EVENTS_PER_ROW) });
    }
    return out;
  }

  /**
   * The user and the vendor platform of each device the entries do not say, in one query per 500;
   * what it returns gives them per push. Answers are kept per push: every event of one push to one
   * device names the user the device had at the first (a device is told sent and then reached
   * within moments, and is looked up once). Kept by push, then by registration id, so that no key
   * is built per device.
   */
  private async deviceInfo(db: Db, appId: number, list: readonly StatEntry[]): Promise<(taskId: string) => ReadonlyMap<string, DeviceFacts> | undefined> {
    if (this.cachedDevices > 200_000) {
      this.devices.clear();
      this.cachedDevices = 0;
    }
    const missing = new Map<string, Map<string, DeviceFacts>[]>(); // registration id → the pushes it is looked up for
    for (const e of list) {
      let ofTask: Map<string, DeviceFacts> | undefined;
      for (const d of e.devices!) {
        if (d.userId !== undefined && d.devicePlatform !== undefined) continue;
        ofTask ??= this.taskDevices(appId, e.taskId);
        if (ofTask.has(d.registrationId)) continue;
        const pushes = missing.get(d.registrationId);
        if (!pushes) missing.set(d.registrationId, [ofTask]);
        else if (!pushes.includes(ofTask)) pushes.push(ofTask);
      }
    }
    for (const part of chunks([...missing.keys()], 500)) {
      const rows = await db.selectFrom('devices').select(['registration_id', 'user_id', 'vendor']).where('app_id', '=', appId).where('registration_id', 'in', part).execute();
      for (const r of rows) {
        const facts = { userId: r.user_id, platform: platformOf(r.vendor) };
        for (const ofTask of missing.get(r.registration_id)!) ofTask.set(r.registration_id, facts);
        this.cachedDevices += missing.get(r.registration_id)!.length;
      }
    }
    return (taskId) => this.devices.get(`${appId}:${taskId}`);
  }

  private taskDevices(appId: number, taskId: string): Map<string, DeviceFacts> {
    const key = `${appId}:${taskId}`;
    let ofTask = this.devices.get(key);
    if (!ofTask) this.devices.set(key, (ofTask = new Map()));
    return ofTask;
  }
}

/** A device's user and vendor platform, as the store had them at the first event of a push to it. */
interface DeviceFacts {
  userId: string | null;
  platform: number;
}

/** The entries as counter increments: one per platform of each entry, not one per device. */
function countersOf(entries: readonly StatEntry[], now: number): Counter[] {
  const counters: Counter[] = [];
  for (const e of entries) {
    const base = { appId: e.appId, family: familyOfEntry(e), taskId: e.taskId, hour: hourOf(e.at ?? now), eventType: e.eventType, metric: e.metric, code: e.code ?? 0, reason: e.reason ?? '' };
    if (e.devices) {
      for (const [platform, count] of countPerPlatform(e.devices)) counters.push({ ...base, platform, count });
    } else if (e.count) counters.push({ ...base, platform: e.platform ?? 0, count: e.count });
  }
  return counters;
}

/** How many of the devices are on each platform: most lists are of one, and need no map. */
function countPerPlatform(devices: readonly StatDevice[]): [number, number][] {
  if (devices.length === 0) return [];
  const first = devices[0]!.platform;
  let others: Map<number, number> | undefined;
  let same = 0;
  for (const d of devices) {
    if (d.platform === first) same++;
    else (others ??= new Map()).set(d.platform, (others.get(d.platform) ?? 0) + 1);
  }
  return [[first, same], ...(others ?? [])];
}

/** The entry's devices as the callback columns, with what they do not say taken from `known`; no object per device. */
function stepDevices(list: readonly StatDevice[], known: (d: StatDevice) => DeviceFacts | undefined): StepDevices {
  const n = list.length;
  const toAccount = new Array<string>(n);
  const registrationId = new Array<string>(n);
  const platform = new Array<number>(n);
  const devicePlatform = new Array<number>(n);
  let samePlatform = true;
  let sameDevicePlatform = true;
  for (let i = 0; i < n; i++) {
    const d = list[i]!;
    const dev = d.userId !== undefined && d.devicePlatform !== undefined ? undefined : known(d);
    toAccount[i] = d.userId ?? dev?.userId ?? '';
    registrationId[i] = d.registrationId;
    platform[i] = d.platform;
    devicePlatform[i] = d.devicePlatform ?? dev?.platform ?? d.platform;
    samePlatform &&= platform[i] === platform[0];
    sameDevicePlatform &&= devicePlatform[i] === devicePlatform[0];
  }
  return { toAccount, registrationId, platform: samePlatform ? platform[0]! : platform, devicePlatform: sameDevicePlatform ? devicePlatform[0]! : devicePlatform };
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
