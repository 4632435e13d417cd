import type { Kysely } from 'kysely';
import type { StoredMessage } from '../dispatch/message.js';
import type { Database } from '../store/index.js';
import { schedRecords, schedulesOf, shardCounts, taskRecords, type RecordFilter, type RecordPosition, type SchedRecordRow, type ScheduleOf, type ShardCounts, type TaskRecordRow } from '../store/push-records.js';
import { schedRecordStatus, taskRecordStatus, type RecordStatus } from './push-status.js';

export type { RecordPosition } from '../store/push-records.js';

/** What a record list can be narrowed to: the audience kinds, and `scheduled` for pushes that came from a schedule. */
export const RECORD_TYPES = ['all', 'tag', 'batch', 'chat', 'call', 'scheduled'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export interface RecordQuery {
  since?: number;
  until?: number;
  types?: readonly RecordType[];
  taskId?: string;
  search?: string;
  limit: number;
  from?: RecordPosition;
}

export interface RecordProgress {
  audience: number;
  inbox: number;
  dropped: number;
  shards: number;
  shardsDone: number;
  processed: number;
}

/** One push, or one scheduled push not fired yet. */
export interface PushRecord {
  position: RecordPosition;
  /** The push's TaskId; '' for a schedule that has not fired. */
  taskId: string;
  kind: string;
  status: RecordStatus;
  /** Herald's own status, as get_push_task and get_sched_task show it. */
  internalStatus: string;
  createdAt: number;
  expiresAt: number | null;
  finishedAt: number | null;
  revokedAt: number | null;
  pushFlag: number | null;
  from: string;
  dataId: string | null;
  title: string;
  desc: string;
  schedule?: { schedId: number; schedAt: number; error: string };
  /** The request as accepted (a schedule's Content). */
  request: unknown;
  progress?: RecordProgress;
}

export interface RecordPage {
  records: PushRecord[];
  /** Where the next page starts; absent when there is none. */
  next?: RecordPosition;
}

const SCHED_KIND: Readonly<Record<string, string>> = { All: 'all', Tag: 'tag', User: 'batch' };

/** Order of the list: newest first; at the same millisecond pushes before schedules. */
function before(a: RecordPosition, b: RecordPosition): boolean {
  if (a.at !== b.at) return a.at > b.at;
  return a.source === 'task' && b.source === 'sched';
}

/** Does the push's title or text (in any of its languages) contain `search`? */
function mentions(message: StoredMessage, search: string): boolean {
  const s = search.toLowerCase();
  const texts = [message.info.Title, message.info.Desc, ...(message.info.MultiLanguageContent ?? []).flatMap((l) => [l.Title, l.Desc])];
  return texts.some((t) => t !== undefined && t.toLowerCase().includes(s));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** What one source yielded: its matching rows, and how far it read (absent once it has nothing more). */
interface Scan<T> {
  rows: T[];
  frontier?: RecordPosition;
}

function filterOf(q: RecordQuery): RecordFilter {
  const kinds = q.types?.filter((t) => t !== 'scheduled');
  return {
    since: q.since,
    until: q.until,
    kinds: kinds && kinds.length > 0 ? kinds : undefined,
    scheduledOnly: q.types?.includes('scheduled') === true,
    taskId: q.taskId,
    search: q.search,
  };
}

const taskPosition = (r: TaskRecordRow): RecordPosition => ({ at: Number(r.created_at), source: 'task', id: r.task_id });
const schedPosition = (r: SchedRecordRow): RecordPosition => ({ at: Number(r.created_at), source: 'sched', id: Number(r.sched_id) });

/**
 * A page of an app's push records, newest first. Pushes and unfired schedules are read side by
 * side, one more row than the page from each, and merged. A search is matched in SQL against the
 * stored message and then checked against the title and text alone, so a page may come back short
 * (even empty) with a next position: records are only returned down to the point where every
 * source has been read, which keeps the order exact across pages.
 */
export async function listPushRecords(db: Kysely<Database>, appId: number, q: RecordQuery, now: number): Promise<RecordPage> {
  const f = filterOf(q);
  const read = q.limit + 1;
  const [taskRows, schedRows] = await Promise.all([taskRecords(db, appId, f, q.from, read), schedRecords(db, appId, f, q.from, read)]);
  const tasks: Scan<TaskRecordRow> = {
    rows: f.search ? taskRows.filter((r) => mentions(JSON.parse(r.message) as StoredMessage, f.search!)) : taskRows,
    frontier: taskRows.length === read ? taskPosition(taskRows[taskRows.length - 1]!) : undefined,
  };
  const scheds: Scan<SchedRecordRow> = { rows: schedRows, frontier: schedRows.length === read ? schedPosition(schedRows[schedRows.length - 1]!) : undefined };

  // Nothing below the higher frontier is known to be complete yet.
  const bound = [tasks.frontier, scheds.frontier].reduce<RecordPosition | undefined>((b, p) => (p && (!b || before(p, b)) ? p : b), undefined);
  const merged: (TaskRecordRow | SchedRecordRow)[] = [];
  let i = 0;
  let j = 0;
  while (i < tasks.rows.length || j < scheds.rows.length) {
    const t = tasks.rows[i];
    const s = scheds.rows[j];
    const takeTask = t !== undefined && (s === undefined || !before(schedPosition(s), taskPosition(t)));
    const pos = takeTask ? taskPosition(t) : schedPosition(s!);
    if (bound && before(bound, pos)) break;
    merged.push(takeTask ? t : s!);
    if (takeTask) i++;
    else j++;
  }
  const page = merged.slice(0, q.limit);
  const positionOf = (r: TaskRecordRow | SchedRecordRow) => ('task_id' in r ? taskPosition(r) : schedPosition(r));
  const next = merged.length > q.limit ? positionOf(page[page.length - 1]!) : bound;
  return { records: await shape(db, appId, page, now), next };
}

/** Records of a page, with their schedules and fan-out progress read in one query each. */
async function shape(db: Kysely<Database>, appId: number, rows: readonly (TaskRecordRow | SchedRecordRow)[], now: number): Promise<PushRecord[]> {
  const taskIds = rows.filter((r): r is TaskRecordRow => 'task_id' in r).map((r) => r.task_id);
  const [schedules, progress] = await Promise.all([schedulesOf(db, appId, taskIds), shardCounts(db, appId, taskIds)]);
  return rows.map((r) => ('task_id' in r ? taskRecord(r, schedules.get(r.task_id), progress.get(r.task_id), now) : schedRecord(r)));
}

function taskRecord(r: TaskRecordRow, schedule: ScheduleOf | undefined, shards: ShardCounts | undefined, now: number): PushRecord {
  const message = JSON.parse(r.message) as StoredMessage;
  return {
    position: taskPosition(r),
    taskId: r.task_id,
    kind: r.kind,
    status: taskRecordStatus(r.status, Number(r.expires_at), now),
    internalStatus: r.status,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    pushFlag: Number(r.push_flag),
    from: r.from_account,
    dataId: r.data_id,
    title: message.info.Title ?? '',
    desc: message.info.Desc ?? '',
    ...(schedule ? { schedule: { ...schedule, error: '' } } : {}),
    request: parseJson(r.request),
    progress: {
      audience: Number(r.target_count),
      inbox: Number(r.materialized),
      dropped: Number(r.dropped),
      shards: shards?.shards ?? 0,
      shardsDone: shards?.done ?? 0,
      processed: shards?.processed ?? 0,
    },
  };
}

function schedRecord(r: SchedRecordRow): PushRecord {
  const content = parseJson(r.content);
  const info = (content as { OfflinePushInfo?: { PushFlag?: unknown } } | null)?.OfflinePushInfo;
  return {
    position: schedPosition(r),
    taskId: r.push_task_id,
    kind: SCHED_KIND[r.type] ?? r.type,
    status: schedRecordStatus(r.status),
    internalStatus: r.status,
    createdAt: Number(r.created_at),
    expiresAt: null,
    finishedAt: null,
    revokedAt: null,
    pushFlag: typeof info?.PushFlag === 'number' ? info.PushFlag : null,
    from: String((content as { From_Account?: unknown } | null)?.From_Account ?? ''),
    dataId: null,
    title: r.title,
    desc: r.description,
    schedule: { schedId: Number(r.sched_id), schedAt: Number(r.sched_at), error: r.dispatch_err },
    request: content,
  };
}
