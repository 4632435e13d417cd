import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { chunks } from '../util/chunks.js';

/**
 * Per-user conversation settings: mutes, do-not-disturb hours and the unread badge. Reads for a
 * chat push take the whole recipient list at once (one statement per 500 users).
 */

type Db = Kysely<Database> | Transaction<Database>;

const CHUNK = 500;

const unique = (users: readonly string[]) => [...new Set(users)];

export interface Mute {
  conversation: string;
  /** null = until unmuted. */
  mutedUntil: number | null;
}

/**
 * Mutes a conversation for a user, until `until` (null: until unmuted); a later call replaces it.
 * The user's mutes that have run out go at the same time, so they do not pile up.
 */
export async function mute(db: Db, appId: number, user: string, conversation: string, until: number | null, now: number): Promise<void> {
  await db.deleteFrom('conversation_mutes').where('app_id', '=', appId).where('user_id', '=', user).where('muted_until', '<=', now).execute();
  await db
    .insertInto('conversation_mutes')
    .values({ app_id: appId, conversation, user_id: user, muted_until: until, updated_at: now })
    .onConflict((oc) => oc.columns(['app_id', 'conversation', 'user_id']).doUpdateSet({ muted_until: until, updated_at: now }))
    .execute();
}

/** Whether there was a mute to lift. */
export async function unmute(db: Db, appId: number, user: string, conversation: string): Promise<boolean> {
  const r = await db.deleteFrom('conversation_mutes').where('app_id', '=', appId).where('conversation', '=', conversation).where('user_id', '=', user).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The user's conversations muted at `now`, oldest mute first. */
export async function mutesOf(db: Db, appId: number, user: string, now: number): Promise<Mute[]> {
  const rows = await db
    .selectFrom('conversation_mutes')
    .select(['conversation', 'muted_until'])
    .where('app_id', '=', appId)
    .where('user_id', '=', user)
    .where((eb) => eb.or([eb('muted_until', 'is', null), eb('muted_until', '>', now)]))
    .orderBy('updated_at')
    .orderBy('conversation')
    .execute();
  return rows.map((r) => ({ conversation: r.conversation, mutedUntil: r.muted_until === null ? null : Number(r.muted_until) }));
}

/** Which of `users` have `conversation` muted at `now`. */
export async function mutedUsers(db: Db, appId: number, conversation: string, users: readonly string[], now: number): Promise<Set<string>> {
  return (await mutedIn(db, appId, [conversation], users, now)).get(conversation) ?? new Set();
}

/**
 * For several conversations at once (the chat pushes of one flush), which of `users` muted each:
 * one statement per 500 users, whatever the number of conversations.
 */
export async function mutedIn(db: Db, appId: number, conversations: readonly string[], users: readonly string[], now: number): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const wanted = unique(conversations);
  if (wanted.length === 0) return out;
  for (const part of chunks(unique(users), CHUNK)) {
    const rows = await db
      .selectFrom('conversation_mutes')
      .select(['conversation', 'user_id'])
      .where('app_id', '=', appId)
      .where('conversation', 'in', wanted)
      .where('user_id', 'in', part)
      .where((eb) => eb.or([eb('muted_until', 'is', null), eb('muted_until', '>', now)]))
      .execute();
    for (const r of rows) {
      let set = out.get(r.conversation);
      if (!set) out.set(r.conversation, (set = new Set()));
      set.add(r.user_id);
    }
  }
  return out;
}

export interface DndHours {
  /** Minutes of the local day, [start, end); start > end spans midnight. */
  startMinute: number;
  endMinute: number;
  /** As the user set it; null = the device's time zone, else UTC. */
  timeZone: string | null;
}

export async function setDnd(db: Db, appId: number, user: string, hours: DndHours, now: number): Promise<void> {
  const row = { start_minute: hours.startMinute, end_minute: hours.endMinute, time_zone: hours.timeZone, updated_at: now };
  await db
    .insertInto('dnd_hours')
    .values({ app_id: appId, user_id: user, ...row })
    .onConflict((oc) => oc.columns(['app_id', 'user_id']).doUpdateSet(row))
    .execute();
}

/** Whether the user had do-not-disturb hours to clear. */
export async function clearDnd(db: Db, appId: number, user: string): Promise<boolean> {
  const r = await db.deleteFrom('dnd_hours').where('app_id', '=', appId).where('user_id', '=', user).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export interface UserDnd extends DndHours {
  /** The zone the window is read in: the user's own, else their most recently updated device's that has one; null = UTC. */
  effectiveTimeZone: string | null;
}

/** The do-not-disturb hours of those of `users` that set some, with the time zone each is read in. */
export async function dndHoursOf(db: Db, appId: number, users: readonly string[]): Promise<Map<string, UserDnd>> {
  const out = new Map<string, UserDnd>();
  for (const part of chunks(unique(users), CHUNK)) {
    const rows = await db
      .selectFrom('dnd_hours as h')
      .select(['h.user_id', 'h.start_minute', 'h.end_minute', 'h.time_zone'])
      .select((eb) =>
        eb
          .selectFrom('devices as d')
          .select('d.time_zone')
          .whereRef('d.app_id', '=', 'h.app_id')
          .whereRef('d.user_id', '=', 'h.user_id')
          .where('d.time_zone', 'is not', null)
          .orderBy('d.updated_at', 'desc')
          .limit(1)
          .as('device_time_zone'),
      )
      .where('h.app_id', '=', appId)
      .where('h.user_id', 'in', part)
      .execute();
    for (const r of rows) {
      out.set(r.user_id, {
        startMinute: Number(r.start_minute),
        endMinute: Number(r.end_minute),
        timeZone: r.time_zone,
        effectiveTimeZone: r.time_zone ?? r.device_time_zone ?? null,
      });
    }
  }
  return out;
}

/** Adds one to each user's unread count and returns the new counts. A user named twice counts once. */
export async function incrementBadges(tx: Transaction<Database>, appId: number, users: readonly string[], now: number): Promise<Map<string, number>> {
  return addBadges(tx, appId, new Map(unique(users).map((u) => [u, 1])), now);
}

/**
 * Adds to each user's unread count (the chat pushes of one flush may notify a user several times)
 * and returns the new counts: one upsert per 500 users, answering its rows, on both dialects.
 */
export async function addBadges(tx: Transaction<Database>, appId: number, amounts: ReadonlyMap<string, number>, now: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks([...amounts], CHUNK)) {
    const rows = await tx
      .insertInto('badges')
      .values(part.map(([u, n]) => ({ app_id: appId, user_id: u, count: n, updated_at: now })))
      .onConflict((oc) => oc.columns(['app_id', 'user_id']).doUpdateSet({ count: sql`badges.count + excluded.count`, updated_at: now }))
      .returning(['user_id', 'count'])
      .execute();
    for (const r of rows) out.set(r.user_id, Number(r.count));
  }
  return out;
}

export async function setBadge(db: Db, appId: number, user: string, count: number, now: number): Promise<void> {
  await db
    .insertInto('badges')
    .values({ app_id: appId, user_id: user, count, updated_at: now })
    .onConflict((oc) => oc.columns(['app_id', 'user_id']).doUpdateSet({ count, updated_at: now }))
    .execute();
}

/** Each user's unread count; a user never counted has 0. */
export async function getBadges(db: Db, appId: number, users: readonly string[]): Promise<Map<string, number>> {
  const list = unique(users);
  const out = new Map<string, number>(list.map((u) => [u, 0]));
  for (const part of chunks(list, CHUNK)) {
    const rows = await db.selectFrom('badges').select(['user_id', 'count']).where('app_id', '=', appId).where('user_id', 'in', part).execute();
    for (const r of rows) out.set(r.user_id, Number(r.count));
  }
  return out;
}
