import { z } from 'zod';
import { funnelOf, funnelsBy, rate, type Funnel } from '../../stats/funnel.js';
import { statCounters } from '../../store/index.js';
import type { CounterFilter, CounterSum } from '../../store/stat-counters.js';
import type { AdminCommand, AdminDeps } from './context.js';
import { TimCode } from './envelope.js';
import { Family, familyTask } from './family-task.js';
import { parseBody } from './input.js';

const DAY_S = 86400;

/** Tencent's window: StartTime/EndTime in unix seconds, at most `maxDays` apart (trtc.io/document/71894, zh/71895, zh/71897, zh/71898). */
function withinDays<T extends z.ZodType<{ StartTime: number; EndTime: number }>>(schema: T, maxDays: number): T {
  return schema
    .refine((b) => b.EndTime >= b.StartTime, { message: 'EndTime must not be before StartTime', path: ['EndTime'] })
    .refine((b) => b.EndTime - b.StartTime <= maxDays * DAY_S, { message: `StartTime and EndTime at most ${maxDays} days apart`, path: ['EndTime'] });
}

const Times = { StartTime: z.number().int().nonnegative(), EndTime: z.number().int().nonnegative() };

/** all_member_*: a window and at most 5 TaskIDs. */
const allMemberWindow = (maxDays: number) => withinDays(z.object({ ...Times, TaskID: z.array(z.string().min(1).max(128)).max(5).optional() }), maxDays);

/** normal_*: a window only (Tencent's request has nothing else; a TaskID here would be silently ignored, so it is refused). */
const normalWindow = (maxDays: number) => withinDays(z.strictObject(Times), maxDays);

type Window = { StartTime: number; EndTime: number; TaskID?: string[] };
type SumBy = Parameters<typeof statCounters.sumCounters>[2];

const toHour = (unixS: number) => Math.floor(unixS / 3600);

const windowFilter = (appId: number, family: Family, b: Window): CounterFilter => ({ appId, family, fromHour: toHour(b.StartTime), toHour: toHour(b.EndTime) });

/** The family's counters of the window, per task named (or overall when none is: TaskID ""). */
async function windowSums(deps: AdminDeps, appId: number, family: Family, b: Window, by: SumBy): Promise<{ taskId: string; rows: CounterSum[] }[]> {
  const f = windowFilter(appId, family, b);
  const ids = b.TaskID ?? [];
  if (ids.length === 0) return [{ taskId: '', rows: await statCounters.sumCounters(deps.db, f, by) }];
  for (const id of ids) await familyTask(deps, appId, id, family);
  const rows = await statCounters.sumCounters(deps.db, { ...f, taskIds: ids }, ['taskId', ...by]);
  return ids.map((taskId) => ({ taskId, rows: rows.filter((r) => r.taskId === taskId) }));
}

const counts = (f: Funnel) => ({ TotalCount: f.sendable, SentCount: f.sent, DeliveredCount: f.reached, ClickCount: f.clicked });

/**
 * A funnel answer: the counts, Herald's three rates, and a row per platform; with `channel`, per
 * channel (EventType) and platform, as all_member_push_statistics has it. normal_push_statistics
 * rows are per platform alone (trtc.io/zh/document/71897).
 */
function funnelAnswer(rows: readonly CounterSum[], channel: boolean) {
  const total = funnelOf(rows);
  const key = (r: CounterSum) => (channel ? r.eventType : 0) * 1000 + r.platform;
  return {
    ...counts(total),
    SendRate: total.sendRate,
    ReachRate: total.reachRate,
    ClickRate: total.clickRate,
    PlatformStatistics: [...funnelsBy(rows, key)].map(([k, f]) => ({ ...(channel ? { EventType: Math.floor(k / 1000) } : {}), PushPlatform: k % 1000, ...counts(f) })),
  };
}

/**
 * `v4/timpush/all_member_push_statistics` (trtc.io/document/71894): the funnel of all-users, tag and
 * single pushes in a window, per task or overall, with a row per channel (EventType) and platform.
 * Herald adds the three rates.
 */
export const allMemberPushStatistics: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(allMemberWindow(30), body);
    const results = await windowSums(deps, caller.app.sdkAppId, Family.allMember, b, ['eventType', 'platform']);
    return { Results: results.map(({ taskId, rows }) => ({ TaskID: taskId, ...funnelAnswer(rows, true) })) };
  },
};

/**
 * `v4/timpush/normal_push_statistics` (trtc.io/zh/document/71897): the funnel of chat message and
 * call pushes in a window, with a row per platform (the gateway is platform 0). Herald adds the
 * three rates.
 */
export const normalPushStatistics: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(normalWindow(30), body);
    return funnelAnswer(await statCounters.sumCounters(deps.db, windowFilter(caller.app.sdkAppId, Family.normal, b), ['platform']), false);
  },
};

interface LossRow {
  ErrCode: number;
  ErrCount: number;
  ErrInfo: string;
}

function lossList(rows: readonly CounterSum[]): LossRow[] {
  const byCode = new Map<number, LossRow>();
  for (const r of rows) {
    const cur = byCode.get(r.code);
    if (cur) cur.ErrCount += r.count;
    else byCode.set(r.code, { ErrCode: r.code, ErrCount: r.count, ErrInfo: r.reason });
  }
  return [...byCode.values()].sort((a, b) => b.ErrCount - a.ErrCount || a.ErrCode - b.ErrCode);
}

/**
 * A loss answer: by reason code, overall and per platform (with `channel`, per channel and
 * platform), and Herald's loss rate of each stage: ready-to-send losses ÷ sendable, post-send
 * losses ÷ sent.
 */
function lossAnswer(rows: readonly CounterSum[], channel: boolean) {
  const total = funnelOf(rows);
  const ready = rows.filter((r) => r.metric === 'loss_ready');
  const post = rows.filter((r) => r.metric === 'loss_post');
  const perPlatform = (list: readonly CounterSum[]) => list.map((r) => ({ ...(channel ? { EventType: r.eventType } : {}), PushPlatform: r.platform, ErrCode: r.code, ErrCount: r.count, ErrInfo: r.reason }));
  return {
    ReadyToSendLoss: lossList(ready),
    PostSendDeliveredLoss: lossList(post),
    PlatformReadyToSendLoss: perPlatform(ready),
    PlatformPostSendDeliveredLoss: perPlatform(post),
    ReadyToSendLossRate: rate(total.readyToSendLoss, total.sendable),
    PostSendLossRate: rate(total.postSendLoss, total.sent),
  };
}

/**
 * `v4/timpush/all_member_push_loss` (trtc.io/zh/document/71895): where the devices not sent to
 * (ReadyToSendLoss) and not reached (PostSendDeliveredLoss) went, by reason code, overall and per
 * channel and platform.
 */
export const allMemberPushLoss: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(allMemberWindow(7), body);
    const results = await windowSums(deps, caller.app.sdkAppId, Family.allMember, b, ['eventType', 'platform', 'code']);
    return { Results: results.map(({ taskId, rows }) => ({ TaskID: taskId, ...lossAnswer(rows, true) })) };
  },
};

/** `v4/timpush/normal_push_loss` (trtc.io/zh/document/71898): the same for chat message and call pushes, per platform. */
export const normalPushLoss: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(normalWindow(7), body);
    return lossAnswer(await statCounters.sumCounters(deps.db, windowFilter(caller.app.sdkAppId, Family.normal, b), ['platform', 'code']), false);
  },
};

const FunnelBody = z
  .object({
    /** yesterday, the last 7 or 30 days (today included), or StartTime–EndTime. */
    Range: z.enum(['yesterday', '7d', '30d', 'custom']).default('7d'),
    StartTime: z.number().int().nonnegative().optional(),
    EndTime: z.number().int().nonnegative().optional(),
    TaskId: z.string().min(1).max(128).optional(),
    /** 0 all-users, tag and single pushes; 1 chat message and call pushes. */
    Family: z.union([z.literal(Family.allMember), z.literal(Family.normal)]).default(Family.allMember),
    PushPlatform: z.number().int().min(0).max(99).optional(),
    EventType: z.union([z.literal(1), z.literal(2)]).optional(),
    /** The console's time zone, in whole hours east of UTC (counters are kept per hour). */
    TimeZoneOffsetHours: z.number().int().min(-12).max(14).default(0),
  })
  .refine((b) => b.Range !== 'custom' || (b.StartTime !== undefined && b.EndTime !== undefined && b.EndTime >= b.StartTime && b.EndTime - b.StartTime <= 366 * DAY_S), {
    message: 'Range custom needs StartTime ≤ EndTime, at most 366 days apart',
    path: ['StartTime'],
  });

const funnelView = (f: Funnel) => ({
  Sendable: f.sendable,
  Sent: f.sent,
  Reached: f.reached,
  Clicked: f.clicked,
  ReadyToSendLoss: f.readyToSendLoss,
  PostSendLoss: f.postSendLoss,
  SendRate: f.sendRate,
  ReachRate: f.reachRate,
  ClickRate: f.clickRate,
});

/**
 * `v4/timpush/get_push_funnel` (Herald's, for the console): the funnel over yesterday, the last 7
 * or 30 days or a custom range, in the console's time zone, with a row per day; optionally for one
 * task, one platform and one channel, of either statistics family.
 */
export const getPushFunnel: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(FunnelBody, body);
    const offset = b.TimeZoneOffsetHours * 3600;
    const today = Math.floor((Date.now() / 1000 + offset) / DAY_S);
    // local days [first, last], as day numbers since the epoch
    const [first, last] =
      b.Range === 'yesterday' ? [today - 1, today - 1] : b.Range === '7d' ? [today - 6, today] : b.Range === '30d' ? [today - 29, today] : [Math.floor((b.StartTime! + offset) / DAY_S), Math.floor((b.EndTime! + offset) / DAY_S)];
    const appId = caller.app.sdkAppId;
    if (b.TaskId) await familyTask(deps, appId, b.TaskId, b.Family, 'TaskId');
    const rows = await statCounters.sumCounters(
      deps.db,
      {
        appId,
        family: b.Family,
        taskIds: b.TaskId ? [b.TaskId] : undefined,
        fromHour: toHour(first * DAY_S - offset),
        toHour: toHour((last + 1) * DAY_S - offset) - 1,
        platform: b.PushPlatform,
        eventType: b.EventType,
      },
      ['hour'],
    );
    const byDay = funnelsBy(rows, (r) => Math.floor((r.hour * 3600 + offset) / DAY_S));
    const days = [];
    for (let d = first; d <= last; d++) {
      days.push({ Date: new Date(d * DAY_S * 1000).toISOString().slice(0, 10), ...funnelView(byDay.get(d) ?? funnelOf([])) });
    }
    return { Range: b.Range, StartDate: days[0]!.Date, EndDate: days[days.length - 1]!.Date, Total: funnelView(funnelOf(rows)), Daily: days };
  },
};
