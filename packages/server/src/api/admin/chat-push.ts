import crypto from 'node:crypto';
import { z } from 'zod';
import { chatPushInfo, MsgBody, onlineOnlyWithoutText } from '../../dispatch/chat-message.js';
import type { ChatMeta } from '../../dispatch/message.js';
import { applyPushTemplate, OfflinePushInfo } from '../../dispatch/index.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { notFound, parseBody, withErrors } from './input.js';

/** A one-to-one message has one recipient in Tencent's sendmsg; Herald takes a list (a batch of one-to-one messages). A group message names the members to notify. */
const MAX_RECIPIENTS = 500;

const Account = z.string().min(1).max(128);
const Uint32 = z.number().int().min(0).max(0xffffffff);

/**
 * `v4/timpush/chat_push`, Herald's own: an IM backend reports a message its recipients may not be
 * online to see. Fields are named as Tencent's IM REST API names them (sendmsg / send_group_msg,
 * reference §3.1 and §5.2): Herald is told the message, not asked to store it.
 */
const ChatPushBody = z
  .object({
    From_Account: Account,
    SenderNick: z.string().max(128).optional(),
    To_Account: z.union([Account, z.array(Account).min(1).max(MAX_RECIPIENTS)]),
    GroupId: z.string().min(1).max(128).optional(),
    GroupName: z.string().max(128).optional(),
    MsgKey: z.string().max(128).optional(),
    MsgSeq: Uint32.optional(),
    MsgRandom: Uint32,
    MsgTime: z.number().int().nonnegative().optional(),
    MsgBody: MsgBody,
    OfflinePushInfo: OfflinePushInfo.optional(),
    // Herald extension, as on `batch`: how long the notification may wait for an offline device, in seconds.
    ExpireTime: z.number().int().min(1).max(30 * 86400).optional(),
  })
  .refine((b) => b.GroupId !== undefined || b.GroupName === undefined, { message: 'GroupName needs GroupId', path: ['GroupName'] });
type ChatPushBody = z.infer<typeof ChatPushBody>;

/**
 * A message reported twice (an IM backend retrying) must notify once. MsgRandom alone is shared by
 * chance between messages of different senders, so the claim is a 52-bit digest of the message's
 * whole identity, which stays exact in a JavaScript number and a bigint column.
 */
export function messageIdentity(parts: readonly (string | number | undefined)[]): number {
  const digest = crypto.createHash('sha256').update(JSON.stringify(parts)).digest();
  return digest.readUIntBE(0, 6) * 16 + (digest[6]! >> 4);
}

export function chatMetaOf(b: ChatPushBody, now: number): ChatMeta {
  const where = b.GroupId !== undefined ? { type: 'group' as const, id: b.GroupId } : { type: 'c2c' as const, id: b.From_Account };
  const chat: ChatMeta = { ...where, msgRandom: b.MsgRandom, msgTime: b.MsgTime ?? Math.floor(now / 1000) };
  if (b.SenderNick !== undefined) chat.senderNick = b.SenderNick;
  if (b.GroupName !== undefined) chat.groupName = b.GroupName;
  if (b.MsgKey !== undefined) chat.msgKey = b.MsgKey;
  if (b.MsgSeq !== undefined) chat.msgSeq = b.MsgSeq;
  return chat;
}

export const chatPushCommand: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(ChatPushBody, body);
    const appId = caller.app.sdkAppId;
    const now = Date.now();
    // the sender is not notified of their own message
    const to = [...new Set(typeof b.To_Account === 'string' ? [b.To_Account] : b.To_Account)].filter((a) => a !== b.From_Account);
    if (to.length === 0) throw new TimError(TimCode.jsonParse, 'To_Account names no one but the sender');
    const chat = chatMetaOf(b, now);
    // a template sees the message's own title and text as timTitle and timDesc
    const own = chatPushInfo(b.OfflinePushInfo ?? OfflinePushInfo.parse({}), b.MsgBody, chat, b.From_Account);
    const reserved = { timSenderNick: chat.senderNick ?? b.From_Account, ...(chat.groupName !== undefined ? { timGroupName: chat.groupName } : {}) };
    const info = onlineOnlyWithoutText(await applyPushTemplate(deps.db, appId, own, reserved));
    const result = await deps.push.submit(appId, {
      kind: 'chat',
      from: b.From_Account,
      to,
      msgRandom: b.MsgRandom,
      // the recipients are part of it: a large group's members may come in several calls
      dedupeKey: messageIdentity([b.From_Account, chat.type, chat.id, b.MsgKey, b.MsgSeq, b.MsgRandom, b.MsgTime, ...[...to].sort()]),
      info,
      chat,
      expireSeconds: b.ExpireTime,
      raw: body,
    });
    return withErrors({ PushID: result.taskId }, result.missing.map(notFound));
  },
};
