import { z } from 'zod';

/**
 * An app's politeness settings (Herald's, beyond Tencent; TPNS has the like as accept_time and
 * frequency capping): quiet hours in each device's own time zone, and a daily cap on all-users and
 * tag pushes per user. A task keeps the settings it was accepted under.
 */
const HourMinute = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be HH:MM or HH:MM:SS (24-hour)');

export const PushPolicy = z.object({
  quietHours: z.object({ start: HourMinute, end: HourMinute }).nullable().optional(),
  /** Most all-users and tag pushes one user gets per local day; 0 or absent = no cap. */
  dailyLimit: z.number().int().min(0).max(1000).optional(),
});
export type PushPolicy = z.infer<typeof PushPolicy>;

export function parsePolicy(json: string | null): PushPolicy {
  if (!json) return {};
  const r = PushPolicy.safeParse(JSON.parse(json));
  return r.success ? r.data : {};
}

/** Seconds after midnight of `HH:MM[:SS]`. */
const secondsOf = (hm: string) => Number(hm.slice(0, 2)) * 3600 + Number(hm.slice(3, 5)) * 60 + (hm.length > 5 ? Number(hm.slice(6, 8)) : 0);

// Intl formatters are costly to build; one per time zone serves every device in it.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(timeZone);
  if (f) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  } catch {
    return null; // not an IANA zone: treated as UTC
  }
  if (formatters.size > 1000) formatters.clear();
  formatters.set(timeZone, f);
  return f;
}

/** Whether `name` is an IANA time zone this runtime knows. */
export const isTimeZone = (name: string): boolean => formatter(name) !== null;

interface LocalTime {
  day: string;
  /** Seconds since local midnight. */
  second: number;
}

export function localTime(now: number, timeZone: string | null): LocalTime {
  const f = timeZone ? formatter(timeZone) : null;
  if (!f) {
    const d = new Date(now);
    return { day: d.toISOString().slice(0, 10), second: d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds() };
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(now)) p[part.type] = part.value;
  return { day: `${p.year}-${p.month}-${p.day}`, second: Number(p.hour) * 3600 + Number(p.minute) * 60 + Number(p.second) };
}

/**
 * Whether `second` (of the local day) falls in the window [start, end), which spans midnight when
 * start > end (22:00–08:00). An empty window (start = end) holds nothing.
 */
export function insideWindow(start: number, end: number, second: number): boolean {
  if (start === end) return false;
  return start < end ? second >= start && second < end : second >= start || second < end;
}

/**
 * When the quiet window a device is in ends, or 0 if it is not in one now. The window is
 * [start, end) in the device's local time and may span midnight (22:00–08:00).
 */
export function quietUntil(policy: PushPolicy, timeZone: string | null, now: number): number {
  const q = policy.quietHours;
  if (!q || q.start === q.end) return 0;
  const start = secondsOf(q.start);
  const end = secondsOf(q.end);
  const { second } = localTime(now, timeZone);
  if (!insideWindow(start, end, second)) return 0;
  const left = (end - second + 86400) % 86400;
  return Math.floor(now / 1000) * 1000 + left * 1000;
}

/** The account a daily cap counts against: the user, else the device. */
export const capAccount = (userId: string | null, registrationId: string) => userId ?? `#${registrationId}`;
