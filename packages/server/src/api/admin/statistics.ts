import { z } from 'zod';
import { funnelOf, funnelsBy, rate, type Funnel } from '../../stats/funnel.js';
import { statCounters, tasks } from '../../store/index.js';
import type { CounterFilter, CounterSum } from '../../store/stat-counters.js';
import type { AdminCommand, AdminDeps } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { parseBody } from './input.js';

const DAY_S = 86400;
/** all-users, tag and single pushes (stat_counters.family). */
const ALL_MEMBER = 0;

/** Tencent's window: StartTime/EndTime in unix seconds, at most `maxDays` apart; TaskID at most 5 (trtc.io/document/71894, zh/71895). */
const windowBody = (maxDays: number) =>
  z
    .object({
      StartTime: z.number().int().nonnegative(),
      EndTime: z.number().int().nonnegative(),
      TaskID: z.array(z.string().min(1).max(128)).max(5).optional(),
    })
    .refine((b) => b.EndTime >= b.StartTime, { message: 'EndTime must not be before StartTime', path: ['EndTime'] })
    .refine((b) => b.EndTime - b.StartTime <= maxDays * DAY_S, { message: `StartTime and EndTime at most ${maxDays} days apart`, path: ['EndTime'] });

type Window = { StartTime: number; EndTime: number; TaskID?: string[] };

const toHour = (unixS: number) => Math.floor(unixS / 3600);

/** The counters of the window, per task named (or overall when none is: TaskID ""). */
async function windowSums(deps: AdminDeps, appId: number, b: Window, by: Parameters<typeof statCounters.sumCounters>[2]): Promise<{ taskId: string; rows: CounterSum[] }[]> {
  const f: CounterFilter = { appId, family: ALL_MEMBER, fromHour: toHour(b.StartTime), toHour: toHour(b.EndTime) };
  const ids = b.TaskID ?? [];
  if (ids.length === 0) return [{ taskId: '', rows: await statCounters.sumCounters(deps.db, f, by) }];
  for (const id of ids) if (!(await tasks.findTask(deps.db, appId, id))) throw new TimError(TimCode.noSuchTask, `no push with TaskID ${id}`);
  const rows = await statCounters.sumCounters(deps.db, { ...f, taskIds: ids }, ['taskId', ...by]);
  return ids.map((taskId) => ({ taskId, rows: rows.filter((r) => r.taskId === taskId) }));
}

const counts = (f: Funnel) => ({ TotalCount: f.sendable, SentCount: f.sent, DeliveredCount: f.reached, ClickCount: f.clicked });

/**
 * `v4/timpush/all_member_push_statistics` (trtc.io/document/71894): the funnel of all-users, tag and
 * single pushes in a window, per task or overall, with a row per channel (EventType) and platform.
 * Herald adds the three rates.
 */
export const allMemberPushStatistics: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(windowBody(30), body);
    const results = await windowSums(deps, caller.app.sdkAppId, b, ['eventType', 'platform']);
    return {
      Results: results.map(({ taskId, rows }) => {
        const total = funnelOf(rows);
        return {
          TaskID: taskId,
          ...counts(total),
          SendRate: total.sendRate,
          ReachRate: total.reachRate,
          ClickRate: total.clickRate,
          PlatformStatistics: [...funnelsBy(rows, (r) => r.eventType * 1000 + r.platform)].map(([k, f]) => ({ EventType: Math.floor(k / 1000), PushPlatform: k % 1000, ...counts(f) })),
        };
      }),
    };
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

const perPlatform = (rows: readonly CounterSum[]) => rows.map((r) => ({ EventType: r.eventType, PushPlatform: r.platform, ErrCode: r.code, ErrCount: r.count, ErrInfo: r.reason }));

/**
 * `v4/timpush/all_member_push_loss` (trtc.io/zh/document/71895): where the devices not sent to
 * (ReadyToSendLoss) and not reached (PostSendDeliveredLoss) went, by reason code, overall and per
 * channel and platform. Herald adds the loss rate of each stage: ready-to-send losses ÷ sendable,
 * post-send losses ÷ sent.
 */
export const allMemberPushLoss: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(windowBody(7), body);
    const results = await windowSums(deps, caller.app.sdkAppId, b, ['eventType', 'platform', 'code']);
    return {
      Results: results.map(({ taskId, rows }) => {
        const total = funnelOf(rows);
        const ready = rows.filter((r) => r.metric === 'loss_ready');
        const post = rows.filter((r) => r.metric === 'loss_post');
        return {
          TaskID: taskId,
          ReadyToSendLoss: lossList(ready),
          PostSendDeliveredLoss: lossList(post),
          PlatformReadyToSendLoss: perPlatform(ready),
          PlatformPostSendDeliveredLoss: perPlatform(post),
          ReadyToSendLossRate: rate(total.readyToSendLoss, total.sendable),
          PostSendLossRate: rate(total.postSendLoss, total.sent),
        };
      }),
    };
  },
};

const FunnelBody = z
  .object({
    /** yesterday, the last 7 or 30 days (today included), or StartTime–EndTime. */
    Range: z.enum(['yesterday', '7d', '30d', 'custom']).default('7d'),
    StartTime: z.number().int().nonnegative().optional(),
    EndTime: z.number().int().nonnegative().optional(),
    TaskId: z.string().min(1).max(128).optional(),
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
 * task, one platform and one channel.
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
    if (b.TaskId && !(await tasks.findTask(deps.db, appId, b.TaskId))) throw new TimError(TimCode.noSuchTask, `no push with TaskId ${b.TaskId}`);
    const rows = await statCounters.sumCounters(
      deps.db,
      {
        appId,
        family: ALL_MEMBER,
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
