import type { Kysely, Transaction } from 'kysely';
import { conversations, type Database } from '../store/index.js';
import { conversationKey, type ChatMeta } from './message.js';
import { insideWindow, localTime } from './policy.js';
import type { ChatRecipients } from './batch-push.js';
import { LossReason } from '../stats/loss-reasons.js';
import type { LossRule } from '../stats/recorder.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Whether `now` falls in the window, read in its time zone (null = UTC). */
export function inDndWindow(hours: Pick<conversations.DndHours, 'startMinute' | 'endMinute'>, timeZone: string | null, now: number): boolean {
  return insideWindow(hours.startMinute * 60, hours.endMinute * 60, localTime(now, timeZone).second);
}

/** Which of `users` are inside their do-not-disturb hours at `now`, each in their own time zone. */
export async function dndUsers(db: Db, appId: number, users: readonly string[], now: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (const [user, hours] of await conversations.dndHoursOf(db, appId, users)) {
    if (inDndWindow(hours, hours.effectiveTimeZone, now)) out.add(user);
  }
  return out;
}

export interface ConversationFilter {
  /** Users to notify. */
  notify: string[];
  /** Users who muted the conversation (counted as lost for that reason). */
  muted: string[];
  /** Users inside their do-not-disturb hours who did not mute it. */
  dnd: string[];
}

/**
 * Splits a chat message's recipients by the settings that keep a notification from them. A user
 * both muted and in do-not-disturb counts as muted; the do-not-disturb read skips muted users.
 */
export async function filterRecipients(db: Db, appId: number, chat: Pick<ChatMeta, 'type' | 'id'>, users: readonly string[], now: number): Promise<ConversationFilter> {
  return (await filterMany(db, appId, [{ chat, users }], now))[0]!;
}

/** `filterRecipients` for the chat pushes of one flush: one read of the mutes and one of the do-not-disturb hours, for them all. */
export async function filterMany(db: Db, appId: number, asks: readonly { chat: Pick<ChatMeta, 'type' | 'id'>; users: readonly string[] }[], now: number): Promise<ConversationFilter[]> {
  const lists = asks.map((a) => [...new Set(a.users)]);
  const keys = asks.map((a) => conversationKey(a.chat));
  const muted = await conversations.mutedIn(db, appId, keys, lists.flat(), now);
  const rests = lists.map((list, i) => list.filter((u) => !muted.get(keys[i]!)?.has(u)));
  const everyone = rests.flat();
  const dnd = everyone.length > 0 ? await dndUsers(db, appId, everyone, now) : new Set<string>();
  return lists.map((list, i) => {
    const rest = rests[i]!;
    return { notify: rest.filter((u) => !dnd.has(u)), muted: list.filter((u) => muted.get(keys[i]!)?.has(u)), dnd: rest.filter((u) => dnd.has(u)) };
  });
}

/** What chat pushes consult (dispatch/batch-push.ts): mutes and do-not-disturb hours, and unread badges. */
export function conversationSettings(db: Kysely<Database>): ChatRecipients {
  return {
    async drop(appId, asks, now) {
      return (await filterMany(db, appId, asks, now)).map((f) => {
        const out = new Map<string, LossRule>();
        for (const u of f.muted) out.set(u, LossReason.conversationMuted);
        for (const u of f.dnd) out.set(u, LossReason.doNotDisturb);
        return out;
      });
    },
    countUnread: (tx, appId, amounts, now) => conversations.addBadges(tx, appId, amounts, now),
    unread: (appId, users) => conversations.getBadges(db, appId, users),
  };
}
