import { z } from 'zod';
import { applyPushTemplate, OfflinePushInfo, revokeTask } from '../../dispatch/index.js';
import { tasks } from '../../store/index.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { parseBody } from './input.js';

const RevokeBody = z.object({
  TaskId: z.string().min(1).max(128),
  OfflinePushInfo: OfflinePushInfo.optional(),
});

/**
 * `v4/timpush/revoke` (reference §2.3, trtc.io/document/67824): 90049 unknown task, 90050 already
 * recalled, 90051 more than one recall a second, 90052 past 24 hours, 90053 no OfflinePushInfo for a
 * push that may have gone out through the vendors (it is what overwrites their notification).
 */
export const revokeCommand: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(RevokeBody, body);
    const appId = caller.app.sdkAppId;
    const now = Date.now();
    const last = deps.lastRecall.get(appId);
    if (last !== undefined && now - last < 1000) throw new TimError(TimCode.recallTooFrequent, 'at most one recall a second');
    const task = await tasks.findTask(deps.db, appId, b.TaskId);
    if (!task) throw new TimError(TimCode.noSuchTask, `no push with TaskId ${b.TaskId}`);
    if (Number(task.push_flag) === 0 && !b.OfflinePushInfo) {
      throw new TimError(TimCode.recallNeedsInfo, 'this push may have reached devices through their vendors: OfflinePushInfo is required to overwrite it');
    }
    // the overwriting content may name a template too; a bad one must not use up the recall
    const info = b.OfflinePushInfo && (await applyPushTemplate(deps.db, appId, b.OfflinePushInfo));
    deps.lastRecall.set(appId, now);
    const r = await revokeTask(deps.revoke, appId, b.TaskId, info, now);
    if (!r.ok) {
      if (r.reason === 'no_such_task') throw new TimError(TimCode.noSuchTask, `no push with TaskId ${b.TaskId}`);
      if (r.reason === 'already_recalled') throw new TimError(TimCode.alreadyRecalled, 'this push was already recalled');
      throw new TimError(TimCode.recallWindowPassed, 'a push can be recalled within 24 hours of its start');
    }
    return {};
  },
};
