import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/index.js';
import { tasks } from '../store/index.js';
import type { Audience } from './audience.js';
import type { StoredMessage } from './message.js';
import type { OfflinePushInfo } from './offline-push-info.js';
import type { PushPolicy } from './policy.js';
import { newTaskId } from './task-id.js';

export interface BroadcastPushRequest {
  from: string;
  msgRandom: number;
  info: OfflinePushInfo;
  audience: Audience;
  /** 'all' (no Condition) or 'tag' (a tag or attribute Condition). */
  kind: 'all' | 'tag';
  dataId?: string;
  expireSeconds?: number;
  pushSpeed?: number;
  policy: PushPolicy;
  raw: unknown;
}

export interface BroadcastPushDeps {
  db: Kysely<Database>;
  defaultExpireSeconds: number;
  msgRandomWindowSeconds: number;
  /** A task was stored: start sending it. */
  wake(): void;
}

/**
 * Accepts an all-users or tag push (`v4/timpush/push`): the task, with its audience as a
 * condition, is stored in one transaction with its MsgRandom claim, and the TaskId is returned only
 * after it commits. Sending happens in the background (fanout.ts), resumable from the store.
 */
export async function acceptBroadcast(
  deps: BroadcastPushDeps,
  appId: number,
  req: BroadcastPushRequest,
  onStored?: (tx: Transaction<Database>, taskId: string) => Promise<void>,
  now = Date.now(),
): Promise<{ taskId: string; duplicate: boolean }> {
  const taskId = newTaskId('push', appId, req.msgRandom, now);
  const expiresAt = now + (req.expireSeconds ?? deps.defaultExpireSeconds) * 1000;
  const message: StoredMessage = { from: req.from, sentAt: now, expiresAt, info: req.info };
  const claim = { appId, kind: 'push', msgRandom: req.msgRandom, taskId };
  const prior = await deps.db.transaction().execute(async (tx) => {
    const lost = await tasks.claimMsgRandoms(tx, [claim], now, deps.msgRandomWindowSeconds * 1000);
    const earlier = lost.get(claim);
    if (earlier !== undefined) {
      await onStored?.(tx, earlier);
      return earlier;
    }
    await tasks.insertTasks(tx, [
      {
        app_id: appId,
        task_id: taskId,
        kind: req.kind,
        status: 'resolving',
        msg_random: req.msgRandom,
        from_account: req.from,
        data_id: req.dataId ?? null,
        push_flag: req.info.PushFlag,
        message: JSON.stringify(message),
        request: JSON.stringify(req.raw),
        target_count: 0,
        created_at: now,
        expires_at: expiresAt,
        audience: JSON.stringify(req.audience),
        push_speed: req.pushSpeed ?? null,
        policy: JSON.stringify(req.policy),
        revoked_at: null,
        finished_at: null,
      },
    ]);
    await onStored?.(tx, taskId);
    return undefined;
  });
  if (prior !== undefined) return { taskId: prior, duplicate: true };
  deps.wake();
  return { taskId, duplicate: false };
}
