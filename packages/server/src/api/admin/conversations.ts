import { z } from 'zod';
import { conversationKey, parseConversationKey } from '../../dispatch/index.js';
import { conversations } from '../../store/index.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { byteLength, parseBody } from './input.js';

/**
 * Herald's `set_conversation_mute`, `get_conversation_mute`, `set_badge` and `get_badge`: the
 * per-user settings the chat push consults, for an IM backend that keeps them itself. Times are
 * unix seconds, as in Tencent's API.
 */

const UserID = z.string().min(1).refine((s) => byteLength(s) <= 128, 'UserID must be at most 128 bytes');

const TYPES = { C2C: 'c2c', Group: 'group' } as const;
const typeName = (t: 'c2c' | 'group') => (t === 'c2c' ? 'C2C' : 'Group');

const SetMuteBody = z.object({
  UserID,
  ConversationType: z.enum(['C2C', 'Group']),
  ConversationID: z.string().min(1).refine((s) => byteLength(s) <= 128, 'ConversationID must be at most 128 bytes'),
  /** Absent or null: until unmuted; 0: unmute; else the unix second the mute ends. */
  MutedUntil: z.number().int().min(0).max(8.64e12).nullable().optional(),
});
const GetMuteBody = z.object({ UserID });
const SetBadgeBody = z.object({ UserID, Badge: z.number().int().min(0).max(1_000_000) });
const GetBadgeBody = z.object({ UserID: z.union([UserID.transform((u) => [u]), z.array(UserID).min(1).max(100)]) });

const admin = TimCode.pushNeedAdmin;

export const setConversationMute: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(SetMuteBody, body);
    const key = conversationKey({ type: TYPES[b.ConversationType], id: b.ConversationID });
    const appId = caller.app.sdkAppId;
    if (b.MutedUntil === 0) {
      await conversations.unmute(deps.db, appId, b.UserID, key);
      return {};
    }
    const now = Date.now();
    const until = b.MutedUntil == null ? null : b.MutedUntil * 1000;
    if (until !== null && until <= now) throw new TimError(TimCode.jsonParse, 'MutedUntil: must be a future unix time in seconds, or 0 to unmute');
    await conversations.mute(deps.db, appId, b.UserID, key, until, now);
    return {};
  },
};

export const getConversationMute: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(GetMuteBody, body);
    const list = await conversations.mutesOf(deps.db, caller.app.sdkAppId, b.UserID, Date.now());
    return {
      Conversations: list.flatMap((m) => {
        const c = parseConversationKey(m.conversation);
        return c ? [{ ConversationType: typeName(c.type), ConversationID: c.id, MutedUntil: m.mutedUntil === null ? null : Math.floor(m.mutedUntil / 1000) }] : [];
      }),
    };
  },
};

export const setBadge: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(SetBadgeBody, body);
    await conversations.setBadge(deps.db, caller.app.sdkAppId, b.UserID, b.Badge, Date.now());
    return {};
  },
};

export const getBadge: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(GetBadgeBody, body);
    const counts = await conversations.getBadges(deps.db, caller.app.sdkAppId, b.UserID);
    return { Badges: [...counts].map(([UserID, Badge]) => ({ UserID, Badge })) };
  },
};
