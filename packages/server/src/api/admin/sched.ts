import type { Transaction } from 'kysely';
import { z } from 'zod';
import { applyPushTemplate, formatSchedTime, parseSchedTime } from '../../dispatch/index.js';
import { sched, type Database } from '../../store/index.js';
import type { SchedRow } from '../../store/sched.js';
import { parseBatch, submitBatch } from './batch.js';
import type { AdminCaller } from './auth.js';
import type { AdminCommand, AdminDeps } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { parseBody } from './input.js';
import { parsePush, submitPush } from './push.js';

/** Scheduled pushes (reference §2.6: tencentcloud.com/document/product/1047/78839 and the pages after it). */
const SchedType = z.enum(['All', 'Tag', 'User']);
type SchedType = z.infer<typeof SchedType>;
const TaskID = z.number().int().positive();
const Sdkappid = z.number().int().optional();

const AddBody = z.object({ Sdkappid, Type: SchedType, SchedAt: z.string(), Content: z.record(z.string(), z.unknown()) });
const ModifyBody = z.object({ Sdkappid, TaskID, Type: SchedType, SchedAt: z.string().optional(), Content: z.record(z.string(), z.unknown()).optional() });
const DeleteBody = z.object({ Sdkappid, TaskID, Type: SchedType });
const GetBody = z.object({ Sdkappid, TaskID });
const ListBody = z.object({
  Sdkappid,
  Offset: z.number().int().min(0).default(0),
  Want: z.number().int().min(1).max(100).default(20),
  OrderBy: z.enum(['createAt', 'schedAt']).default('createAt'),
  Asc: z.union([z.boolean(), z.literal(0), z.literal(1)]).default(false),
  BeginTime: z.string().optional(),
  EndTime: z.string().optional(),
  Keyword: z.string().max(100).optional(),
});

/** The body, checked, and the caller's app, which `Sdkappid` must name when given. */
function parseFor<T extends z.ZodType<{ Sdkappid?: number }>>(schema: T, caller: AdminCaller, body: unknown): { b: z.infer<T>; appId: number } {
  const b = parseBody(schema, body);
  const appId = caller.app.sdkAppId;
  if (b.Sdkappid !== undefined && b.Sdkappid !== appId) throw new TimError(TimCode.jsonParse, 'Sdkappid does not match the sdkappid of the request');
  return { b, appId };
}

function time(s: string, field: string): number {
  const t = parseSchedTime(s);
  if (t === undefined) throw new TimError(TimCode.jsonParse, `${field} must be a UTC time as YYYY-MM-DD HH:MM:SS`);
  return t;
}

/**
 * Validates a schedule's content as the push it will become, now rather than when it fires, and
 * gives its title and text (a template's, filled). The content is stored as sent; the template is
 * filled again when the task fires, so a template changed meanwhile is the one sent.
 */
async function checkContent(deps: AdminDeps, appId: number, type: SchedType, content: Record<string, unknown>): Promise<{ title: string; desc: string }> {
  const c = content;
  let info: { Title?: string; Desc?: string };
  if (type === 'User') {
    info = await applyPushTemplate(deps.db, appId, parseBatch(c).OfflinePushInfo);
  } else {
    if (type === 'All' && c.Condition !== undefined) throw new TimError(TimCode.jsonParse, 'a Type All task takes no Condition');
    if (type === 'Tag' && c.Condition === undefined) throw new TimError(TimCode.jsonParse, 'a Type Tag task needs a Condition');
    info = (await parsePush(deps, appId, c)).body.OfflinePushInfo;
  }
  return { title: info.Title ?? '', desc: info.Desc ?? '' };
}

/** A scheduled task's content gets a MsgRandom when it has none, so firing it twice sends once. */
function withMsgRandom(content: Record<string, unknown>): Record<string, unknown> {
  return content.MsgRandom === undefined ? { ...content, MsgRandom: Math.floor(Math.random() * 0xffffffff) } : content;
}

function taskInfo(r: SchedRow): Record<string, unknown> {
  return {
    TaskID: Number(r.sched_id),
    Sdkappid: Number(r.app_id),
    CreateAt: formatSchedTime(Number(r.created_at)),
    Type: r.type,
    SchedAt: formatSchedTime(Number(r.sched_at)),
    Content: JSON.parse(r.content) as unknown,
    Title: r.title,
    Desc: r.description,
    Status: r.status,
    DispatchSuccess: Number(r.dispatch_success),
    DispatchErr: r.dispatch_err,
    PushTaskID: r.push_task_id,
  };
}

async function pendingOf(deps: AdminDeps, appId: number, id: number, type?: SchedType): Promise<SchedRow> {
  const row = await sched.findSched(deps.db, appId, id);
  if (!row) throw new TimError(TimCode.noSuchTask, `no scheduled task ${id}`);
  if (type !== undefined && row.type !== type) throw new TimError(TimCode.jsonParse, `task ${id} is of Type ${row.type}`);
  if (row.status !== 'pending') throw new TimError(TimCode.schedNotPending, `task ${id} is ${row.status}; only pending tasks can change`);
  return row;
}

export const addSchedTask: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const { b, appId } = parseFor(AddBody, caller, body);
    const at = time(b.SchedAt, 'SchedAt');
    const content = withMsgRandom(b.Content);
    const { title, desc } = await checkContent(deps, appId, b.Type, content);
    const id = await sched.insertSched(deps.db, { appId, type: b.Type, schedAt: at, content: JSON.stringify(content), title, description: desc }, Date.now());
    deps.broadcast.wake();
    return { TaskID: id };
  },
};

export const modifySchedTask: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const { b, appId } = parseFor(ModifyBody, caller, body);
    await pendingOf(deps, appId, b.TaskID, b.Type);
    const set: Parameters<typeof sched.updatePending>[3] = {};
    if (b.SchedAt !== undefined) set.sched_at = time(b.SchedAt, 'SchedAt');
    if (b.Content !== undefined) {
      const content = withMsgRandom(b.Content);
      const { title, desc } = await checkContent(deps, appId, b.Type, content);
      Object.assign(set, { content: JSON.stringify(content), title, description: desc });
    }
    if (Object.keys(set).length > 0 && !(await sched.updatePending(deps.db, appId, b.TaskID, set))) {
      throw new TimError(TimCode.schedNotPending, `task ${b.TaskID} is no longer pending`);
    }
    deps.broadcast.wake();
    return {};
  },
};

export const deleteSchedTask: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const { b, appId } = parseFor(DeleteBody, caller, body);
    await pendingOf(deps, appId, b.TaskID, b.Type);
    if (!(await sched.deletePending(deps.db, appId, b.TaskID))) throw new TimError(TimCode.schedNotPending, `task ${b.TaskID} is no longer pending`);
    return {};
  },
};

export const getSchedTask: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const { b, appId } = parseFor(GetBody, caller, body);
    const row = await sched.findSched(deps.db, appId, b.TaskID);
    if (!row) throw new TimError(TimCode.noSuchTask, `no scheduled task ${b.TaskID}`);
    return { TaskInfo: taskInfo(row) };
  },
};

export const listSchedTask: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const { b, appId } = parseFor(ListBody, caller, body);
    const { total, rows } = await sched.listSched(deps.db, appId, {
      offset: b.Offset,
      want: b.Want,
      orderBy: b.OrderBy === 'schedAt' ? 'sched_at' : 'created_at',
      asc: b.Asc === true || b.Asc === 1,
      begin: b.BeginTime === undefined ? undefined : time(b.BeginTime, 'BeginTime'),
      end: b.EndTime === undefined ? undefined : time(b.EndTime, 'EndTime'),
      keyword: b.Keyword,
    });
    return { Total: total, Tasks: rows.map(taskInfo) };
  },
};

/** Sends a due scheduled task's content as the push it describes (the scheduler's `fire`). */
export async function fireScheduled(deps: AdminDeps, row: SchedRow, onStored: (tx: Transaction<Database>, taskId: string) => Promise<void>): Promise<string> {
  const content = JSON.parse(row.content) as Record<string, unknown>;
  if (row.type === 'User') {
    const r = await submitBatch(deps, row.app_id, parseBatch(content), content);
    return r.taskId;
  }
  const p = await parsePush(deps, row.app_id, content);
  return (await submitPush(deps, row.app_id, p, content, onStored)).taskId;
}
