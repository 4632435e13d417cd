import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { devicesInAudience, type Audience } from '../dispatch/audience.js';
import { familyOf } from '../dispatch/task-id.js';
import type { Database } from '../store/index.js';
import type { TasksTable } from '../store/schema.js';
import { deviceRows, traceDevices, traceDevicesOf, type DeviceRows, type TraceDevice } from '../store/trace-reads.js';
import { LossReason } from './loss-reasons.js';
import { EventType, platformOf } from './platforms.js';

/**
 * The message link of one push for one user's devices or one device (Tencent's
 * all_member_push_trace, trtc.io/zh/document/71893), or for every device a chat or call push
 * targeted (normal_push_trace, trtc.io/zh/document/71896): each device's details and every step of
 * its path, from what the store keeps: the task, the device's inbox row, its losses, clicks and
 * the trace rows the statistics recorder writes (vendor sends and receipts).
 */

/** Step names Herald writes itself; trace_events rows keep the names they were written with. */
export const TraceStep = {
  accepted: 'accepted',
  audienceMatched: 'audience_matched',
  notInAudience: 'not_in_audience',
  targeted: 'targeted',
  notTargeted: 'not_targeted',
  routed: 'routed',
  sent: 'sent',
  reached: 'reached',
  clicked: 'clicked',
  recalled: 'recalled',
  lost: 'lost',
} as const;

/** EventType of a step that belongs to no channel (accepted, audience, recall). */
const NO_CHANNEL = 0;

export interface TraceStepView {
  Step: string;
  /** Unix milliseconds. */
  Time: number;
  EventType: number;
  PushPlatform: number;
  ErrCode: number;
  ErrInfo: string;
  /** Losses only: ready_to_send or post_send. */
  Stage?: string;
}

export interface InstanceTraceView {
  InstanceId: string;
  PushTime: number;
  DeviceModel: string;
  System: string;
  SystemVersion: string;
  EventType: number;
  PushPlatform: number;
  Token: string;
  CertId: number;
  SdkVersion: string;
  NotificationStatus: string;
  // Herald's additions
  RegistrationID: string;
  UserID: string;
  Vendor: string;
  TokenBound: boolean;
  VoipTokenBound: boolean;
  AppVersion: string;
  LastActiveTime: number;
  Outcome: string;
  Steps: TraceStepView[];
}

export type TraceTarget = { userId: string } | { registrationId: string };

type TaskRow = Selectable<TasksTable>;

/** A device the store may no longer hold (unregistered since the push): known by its id only. */
type TracedDevice = { registration_id: string } & Partial<TraceDevice>;

/** Codes the offline (vendor) channel records; the rest are the gateway's or the task's. */
const OFFLINE_CODES = new Set<number>([LossReason.noCertificate.code, LossReason.noToken.code, LossReason.noChannel.code]);
const isOfflineLoss = (code: number) => code >= 0 || OFFLINE_CODES.has(code);

/** Only a token's ends, and only when it is long enough that they give nothing away. */
export function maskToken(token: string | null | undefined): string {
  if (!token) return '';
  return token.length >= 20 ? `${token.slice(0, 4)}…${token.slice(-4)}` : '****';
}

/** Where steps of the same millisecond go, in the order they happen. */
const ORDER = [TraceStep.accepted, TraceStep.audienceMatched, TraceStep.notInAudience, TraceStep.targeted, TraceStep.notTargeted, TraceStep.routed, TraceStep.sent];
const rank = (step: string) => {
  const i = ORDER.indexOf(step as (typeof ORDER)[number]);
  return i < 0 ? ORDER.length : i;
};

/** Batch pushes name an array of accounts; a chat or call push one account or several. */
const TargetedRequest = z.object({ To_Account: z.union([z.string(), z.array(z.string())]) });

/** The UserIDs and RegistrationIDs a push without an audience expression named (a chat or call push never notifies its sender). */
function namedAccounts(task: TaskRow): string[] {
  const req = TargetedRequest.safeParse(JSON.parse(task.request));
  if (!req.success) return [];
  const named = typeof req.data.To_Account === 'string' ? [req.data.To_Account] : req.data.To_Account;
  return familyOf(task.task_id) === 1 ? named.filter((a) => a !== task.from_account) : named;
}

/** Each device's own rows, grouped once so a push to many devices is not searched per device. */
function rowsByDevice(rows: DeviceRows): Map<string, DeviceRows> {
  const out = new Map<string, DeviceRows>();
  const of = (id: string) => {
    let r = out.get(id);
    if (!r) out.set(id, (r = { inbox: [], losses: [], clicks: [], events: [] }));
    return r;
  };
  for (const r of rows.inbox) of(r.registration_id).inbox.push(r);
  for (const r of rows.losses) of(r.registration_id).losses.push(r);
  for (const r of rows.clicks) of(r.registration_id).clicks.push(r);
  for (const r of rows.events) of(r.registration_id).events.push(r);
  return out;
}

const NO_ROWS: DeviceRows = { inbox: [], losses: [], clicks: [], events: [] };

/** Each device's link, from the push's rows. */
async function instances(db: Kysely<Database>, task: TaskRow, devices: readonly TracedDevice[], mine: ReadonlyMap<string, DeviceRows>): Promise<InstanceTraceView[]> {
  const inAudience = await audienceOf(db, task, devices, mine);
  return devices.map((d) => instance(task, d, mine.get(d.registration_id) ?? NO_ROWS, inAudience.get(d.registration_id)!));
}

/** The devices of a target with what the push left for them; empty when the target has no device and no rows. */
export async function traceOf(db: Kysely<Database>, task: TaskRow, target: TraceTarget): Promise<InstanceTraceView[]> {
  const appId = task.app_id;
  const found: TracedDevice[] = await traceDevices(db, appId, target);
  if (found.length === 0 && 'userId' in target) return [];
  // a device unregistered since the push is still shown by what the push left for it
  const devices = found.length > 0 || 'userId' in target ? found : [{ registration_id: target.registrationId }];
  const rows = await deviceRows(db, appId, task.task_id, devices.map((d) => d.registration_id));
  if (found.length === 0 && rows.inbox.length + rows.losses.length + rows.clicks.length + rows.events.length === 0) return [];
  return instances(db, task, devices, rowsByDevice(rows));
}

/**
 * Every device a push without an audience expression targeted: those it left rows for (one that
 * has been unregistered since is shown by its RegistrationID) and those of the accounts it named.
 */
export async function traceOfPush(db: Kysely<Database>, task: TaskRow): Promise<InstanceTraceView[]> {
  const mine = rowsByDevice(await deviceRows(db, task.app_id, task.task_id));
  const withRows = [...mine.keys()];
  const named = namedAccounts(task);
  const found: TracedDevice[] = await traceDevicesOf(db, task.app_id, { registrationIds: [...withRows, ...named], userIds: named });
  const known = new Set(found.map((d) => d.registration_id));
  const gone = withRows.filter((id) => !known.has(id)).map((id) => ({ registration_id: id }));
  const devices = [...found, ...gone].sort((a, b) => (a.registration_id < b.registration_id ? -1 : 1));
  return instances(db, task, devices, mine);
}

/** Whether each device was the push's audience: for all-users and tag pushes, evaluated now; for the others, named in it or given a row. */
async function audienceOf(db: Kysely<Database>, task: TaskRow, devices: readonly TracedDevice[], mine: ReadonlyMap<string, DeviceRows>): Promise<Map<string, { in: boolean; why: string }>> {
  const out = new Map<string, { in: boolean; why: string }>();
  const withRows = new Set([...mine].filter(([, r]) => r.inbox.length + r.losses.length + r.events.length > 0).map(([id]) => id));
  if (task.audience === null) {
    const named = new Set(namedAccounts(task));
    for (const d of devices) {
      const hit = withRows.has(d.registration_id) || named.has(d.registration_id) || (d.user_id != null && named.has(d.user_id));
      out.set(d.registration_id, { in: hit, why: hit ? '' : 'neither the device nor its user is in To_Account' });
    }
    return out;
  }
  const createdAt = Number(task.created_at);
  const matched = await devicesInAudience(db, task.app_id, JSON.parse(task.audience) as Audience, devices.map((d) => d.registration_id));
  for (const d of devices) {
    // a device registered after the push is not its audience (fan-out and catch-up skip it)
    if (d.created_at != null && Number(d.created_at) > createdAt) out.set(d.registration_id, { in: false, why: 'registered after the push' });
    else if (matched.has(d.registration_id) || withRows.has(d.registration_id)) out.set(d.registration_id, { in: true, why: '' });
    else out.set(d.registration_id, { in: false, why: "its tags and attributes (as they are now) do not match the push's condition" });
  }
  return out;
}

function step(name: string, time: number, eventType: number, platform = 0, code = 0, info = ''): TraceStepView {
  return { Step: name, Time: time, EventType: eventType, PushPlatform: platform, ErrCode: code, ErrInfo: info };
}

function steps(task: TaskRow, d: TracedDevice, rows: DeviceRows, audience: { in: boolean; why: string }): TraceStepView[] {
  const created = Number(task.created_at);
  const broadcast = task.audience !== null;
  const vendorPlatform = platformOf(d.vendor);
  const out = [step(TraceStep.accepted, created, NO_CHANNEL)];
  if (!audience.in) {
    out.push(step(broadcast ? TraceStep.notInAudience : TraceStep.notTargeted, created, NO_CHANNEL, 0, 0, audience.why));
    return out;
  }
  out.push(step(broadcast ? TraceStep.audienceMatched : TraceStep.targeted, created, NO_CHANNEL));
  const online = EventType.online;
  for (const r of rows.inbox) {
    const held = r.deliver_after > 0 ? `held for quiet hours until ${new Date(r.deliver_after).toISOString()}` : '';
    out.push(step(TraceStep.routed, Number(r.created_at), online, 0, 0, held));
    if (r.sent_at !== null) out.push(step(TraceStep.sent, Number(r.sent_at), online));
    if (r.acked_at !== null) out.push(step(TraceStep.reached, Number(r.acked_at), online));
  }
  for (const e of rows.events) {
    out.push(step(e.step, Number(e.at), Number(e.event_type), Number(e.platform), Number(e.code), e.info));
  }
  for (const l of rows.losses) {
    const code = Number(l.code);
    const offline = isOfflineLoss(code);
    out.push({ ...step(TraceStep.lost, Number(l.created_at), offline ? EventType.offline : online, offline ? vendorPlatform : 0, code, l.reason), Stage: l.stage });
  }
  const reachedOnline = out.some((s) => s.Step === TraceStep.reached);
  for (const c of rows.clicks) {
    out.push(step(TraceStep.clicked, Number(c.created_at), reachedOnline ? online : EventType.offline, reachedOnline ? 0 : vendorPlatform));
  }
  if (task.revoked_at !== null) out.push(step(TraceStep.recalled, Number(task.revoked_at), NO_CHANNEL));
  return out.sort((a, b) => a.Time - b.Time || rank(a.Step) - rank(b.Step));
}

/** How far the device got: clicked, reached, lost, sent, routed, pending (in the audience, nothing yet) or not targeted. */
function outcome(list: readonly TraceStepView[]): string {
  const has = (pred: (s: TraceStepView) => boolean) => list.some(pred);
  if (has((s) => s.Step === TraceStep.clicked)) return 'clicked';
  if (has((s) => s.Step === TraceStep.reached || s.Step.endsWith('_reached'))) return 'reached';
  if (has((s) => s.Step === TraceStep.lost)) return 'lost';
  if (has((s) => s.Step === TraceStep.sent || s.Step.endsWith('_sent'))) return 'sent';
  if (has((s) => s.Step === TraceStep.routed)) return 'routed';
  if (has((s) => s.Step === TraceStep.notInAudience || s.Step === TraceStep.notTargeted)) return 'not_targeted';
  return 'pending';
}

function instance(task: TaskRow, d: TracedDevice, rows: DeviceRows, audience: { in: boolean; why: string }): InstanceTraceView {
  const list = steps(task, d, rows, audience);
  const gateway = list.some((s) => s.EventType === EventType.online);
  const viaVendor = list.some((s) => s.EventType === EventType.offline);
  const eventType = list.some((s) => s.Step === TraceStep.reached) || (gateway && !viaVendor) ? EventType.online : viaVendor ? EventType.offline : NO_CHANNEL;
  return {
    InstanceId: d.registration_id,
    PushTime: Number(task.created_at),
    DeviceModel: d.device_model ?? '',
    System: d.platform ?? '',
    SystemVersion: d.os_version ?? '',
    EventType: eventType,
    PushPlatform: eventType === EventType.online ? 0 : platformOf(d.vendor),
    Token: maskToken(d.token),
    CertId: d.certificate_id == null ? 0 : Number(d.certificate_id),
    SdkVersion: d.sdk_version ?? '',
    NotificationStatus: d.notification_permission ?? '',
    RegistrationID: d.registration_id,
    UserID: d.user_id ?? '',
    Vendor: d.vendor ?? '',
    TokenBound: Boolean(d.token),
    VoipTokenBound: Boolean(d.voip_token),
    AppVersion: d.app_version ?? '',
    LastActiveTime: d.last_seen_at == null ? 0 : Number(d.last_seen_at),
    Outcome: outcome(list),
    Steps: list,
  };
}
