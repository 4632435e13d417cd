import { z } from 'zod';
import { formatSchedTime } from '../../dispatch/index.js';
import { listPushRecords, RECORD_TYPES, type PushRecord, type RecordPosition } from '../../stats/index.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { parseBody } from './input.js';

const RecordType = z.enum(RECORD_TYPES);

const Body = z.object({
  /** Unix seconds, inclusive, on the time the push was accepted (or the schedule added). */
  StartTime: z.number().int().min(0).optional(),
  EndTime: z.number().int().min(0).optional(),
  Type: z.union([RecordType, z.array(RecordType).min(1).max(RECORD_TYPES.length)]).optional(),
  TaskId: z.string().min(1).max(128).optional(),
  /** Looked for in the title and text, in every language of the push. */
  Search: z.string().min(1).max(100).optional(),
  Limit: z.number().int().min(1).max(100).default(20),
  Cursor: z.string().min(1).max(512).optional(),
});

/** A page position as the opaque `Cursor`: [created_at ms, "t" push | "s" schedule, id]. */
const CursorJson = z.union([z.tuple([z.number().int(), z.literal('t'), z.string().min(1).max(128)]), z.tuple([z.number().int(), z.literal('s'), z.number().int().min(0)])]);

function encodeCursor(p: RecordPosition): string {
  return Buffer.from(JSON.stringify(p.source === 'task' ? [p.at, 't', p.id] : [p.at, 's', p.id])).toString('base64url');
}

function decodeCursor(cursor: string): RecordPosition {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    json = undefined;
  }
  const r = CursorJson.safeParse(json);
  if (!r.success) throw new TimError(TimCode.jsonParse, 'Cursor is not one this command returned');
  const [at, source, id] = r.data;
  return source === 't' ? { at, source: 'task', id: id as string } : { at, source: 'sched', id: id as number };
}

const seconds = (ms: number | null) => (ms === null ? 0 : Math.floor(ms / 1000));

function view(r: PushRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    TaskId: r.taskId,
    Type: r.kind,
    Status: r.status,
    HeraldStatus: r.internalStatus,
    CreateTime: seconds(r.createdAt),
    ExpireTime: seconds(r.expiresAt),
    FinishTime: seconds(r.finishedAt),
    RevokeTime: seconds(r.revokedAt),
    PushFlag: r.pushFlag,
    From_Account: r.from,
    DataId: r.dataId ?? '',
    Title: r.title,
    Desc: r.desc,
  };
  if (r.schedule) out.SchedTask = { TaskID: r.schedule.schedId, SchedAt: formatSchedTime(r.schedule.schedAt), DispatchErr: r.schedule.error };
  out.Request = r.request;
  if (r.progress) {
    const p = r.progress;
    out.Progress = { AudienceCount: p.audience, InboxCount: p.inbox, DroppedCount: p.dropped, Shards: p.shards, ShardsDone: p.shardsDone, Processed: p.processed };
  }
  return out;
}

/**
 * `v4/timpush/get_push_records` (Herald's): the app's recent pushes (all-users, tag, single and
 * batch) and scheduled pushes not yet fired, newest first, with each one's request, status and
 * progress, as Tencent's console lists push records (reference §6, trtc.io/document/60540).
 */
export const getPushRecords: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(Body, body);
    if (b.StartTime !== undefined && b.EndTime !== undefined && b.StartTime > b.EndTime) throw new TimError(TimCode.jsonParse, 'StartTime is after EndTime');
    const page = await listPushRecords(
      deps.db,
      caller.app.sdkAppId,
      {
        since: b.StartTime === undefined ? undefined : b.StartTime * 1000,
        // EndTime names a whole second
        until: b.EndTime === undefined ? undefined : b.EndTime * 1000 + 999,
        types: b.Type === undefined ? undefined : Array.isArray(b.Type) ? b.Type : [b.Type],
        taskId: b.TaskId,
        search: b.Search,
        limit: b.Limit,
        from: b.Cursor === undefined ? undefined : decodeCursor(b.Cursor),
      },
      Date.now(),
    );
    return { Records: page.records.map(view), NextCursor: page.next ? encodeCursor(page.next) : '' };
  },
};
