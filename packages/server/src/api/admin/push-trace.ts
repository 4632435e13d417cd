import { z } from 'zod';
import { traceOf, traceOfPush } from '../../stats/index.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { Family, familyTask } from './family-task.js';
import { notFound, parseBody } from './input.js';

const Id = z.string().min(1).max(128);

/** Tencent names the task `TaskID` here; Herald's other commands say `TaskId`, so both are taken. */
const Body = z
  .object({ TaskID: Id.optional(), TaskId: Id.optional(), UserID: Id.optional(), RegistrationID: Id.optional() })
  .refine((b) => (b.TaskID ?? b.TaskId) !== undefined, { message: 'TaskID is required' })
  .refine((b) => (b.UserID === undefined) !== (b.RegistrationID === undefined), { message: 'give exactly one of UserID and RegistrationID' });

/**
 * `v4/timpush/all_member_push_trace` (reference §2.7, trtc.io/zh/document/71893): the message link
 * of an all-users, tag, single or batch push for each device of a user, or for one device. Tencent
 * answers for the last 7 days; Herald for as long as it keeps the push (HERALD_RETENTION_DAYS).
 */
export const allMemberPushTrace: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(Body, body);
    const taskId = (b.TaskID ?? b.TaskId)!;
    const task = await familyTask(deps, caller.app.sdkAppId, taskId, Family.allMember);
    const target = b.UserID !== undefined ? { userId: b.UserID } : { registrationId: b.RegistrationID! };
    const trace = await traceOf(deps.db, task, target);
    if (trace.length === 0) {
      const e = notFound(b.UserID ?? b.RegistrationID!);
      throw new TimError(e.ErrorCode, e.ErrorInfo);
    }
    return { TaskID: taskId, InstanceTrace: trace };
  },
};

const NormalBody = z.object({ PushID: Id });

/**
 * `v4/timpush/normal_push_trace` (reference §2.7, trtc.io/zh/document/71896): the message link of a
 * chat message or call push for every device it targeted, the same steps as all_member_push_trace.
 */
export const normalPushTrace: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(NormalBody, body);
    const task = await familyTask(deps, caller.app.sdkAppId, b.PushID, Family.normal, 'PushID');
    return { PushID: b.PushID, InstanceTrace: await traceOfPush(deps.db, task) };
  },
};
