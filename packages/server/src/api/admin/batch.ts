import { z } from 'zod';
import { applyPushTemplate, OfflinePushInfo } from '../../dispatch/index.js';
import type { BatchPushResult } from '../../dispatch/index.js';
import type { AdminCommand, AdminDeps } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { notFound, parseBody, withErrors } from './input.js';

const MAX_ACCOUNTS = 500;
const MAX_BODY_WITHOUT_ACCOUNTS = 10 * 1024;

const Account = z.string().min(1).max(128);

/** `v4/timpush/batch` (reference §2.2, trtc.io/document/67553). */
const BatchBody = z.object({
  From_Account: Account,
  To_Account: z.array(Account).min(1),
  MsgRandom: z.number(),
  OfflinePushInfo: OfflinePushInfo,
  DataId: z.string().optional(),
  // Herald extension: how long the message may wait for an offline device, in seconds.
  ExpireTime: z.number().int().min(1).max(30 * 86400).optional(),
});

/** Checks with their own Tencent codes first, then the schema. */
export function parseBatch(body: Record<string, unknown>): z.infer<typeof BatchBody> {
  const r = body.MsgRandom;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > 0xffffffff) {
    throw new TimError(TimCode.msgRandom, 'MsgRandom is missing or not a 32-bit unsigned integer');
  }
  if (Array.isArray(body.To_Account) && body.To_Account.length > MAX_ACCOUNTS) {
    throw new TimError(TimCode.tooManyAccounts, `To_Account has ${body.To_Account.length} accounts; at most ${MAX_ACCOUNTS}`);
  }
  if (typeof body.DataId === 'string' && Buffer.byteLength(body.DataId, 'utf8') > 64) {
    throw new TimError(TimCode.dataIdTooLong, 'DataId is longer than 64 bytes');
  }
  if (Buffer.byteLength(JSON.stringify({ ...body, To_Account: [] })) > MAX_BODY_WITHOUT_ACCOUNTS) {
    throw new TimError(TimCode.bodyTooLarge, 'push body is larger than 10 KB');
  }
  return parseBody(BatchBody, body);
}

export async function submitBatch(deps: AdminDeps, appId: number, b: z.infer<typeof BatchBody>, raw: unknown): Promise<BatchPushResult> {
  return deps.push.submit(appId, {
    from: b.From_Account,
    to: b.To_Account,
    msgRandom: b.MsgRandom,
    info: await applyPushTemplate(deps.db, appId, b.OfflinePushInfo),
    dataId: b.DataId,
    expireSeconds: b.ExpireTime,
    raw,
  });
}

export const batchCommand: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const result = await submitBatch(deps, caller.app.sdkAppId, parseBatch(body), body);
    return withErrors({ TaskId: result.taskId }, result.missing.map(notFound));
  },
};
