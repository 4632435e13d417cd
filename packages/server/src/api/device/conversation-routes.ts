import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { conversationKey, parseConversationKey } from '../../dispatch/index.js';
import type { App, Database } from '../../store/index.js';
import { conversations } from '../../store/index.js';
import { DeviceApiError, parse } from './errors.js';
import { BadgeBody, ConversationRef, DndBody, MuteBody } from './schemas.js';

type DeviceOf = (req: FastifyRequest) => Promise<{ app: App; userId: string | null }>;

const hhmm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/**
 * The device user's conversation settings (docs/protocol.md §2.7–2.9): mutes, do-not-disturb
 * hours and the unread badge. They belong to the UserID, so every device of the user shares them.
 */
export function conversationRoutes(app: FastifyInstance, db: Kysely<Database>, deviceOf: DeviceOf, opts: { bodyLimit: number }): void {
  async function userOf(req: FastifyRequest): Promise<{ appId: number; user: string }> {
    const d = await deviceOf(req);
    if (d.userId === null) throw new DeviceApiError(409, 'no_user', 'the device is not bound to a UserID; call POST /device/v1/bind first');
    return { appId: d.app.sdkAppId, user: d.userId };
  }

  app.post('/device/v1/mute', opts, async (req) => {
    const u = await userOf(req);
    const b = parse(MuteBody, req.body);
    const now = Date.now();
    if (b.until != null && b.until <= now) throw new DeviceApiError(400, 'invalid_request', 'until: must be a future time in epoch milliseconds');
    await conversations.mute(db, u.appId, u.user, conversationKey(b), b.until ?? null, now);
    return { ok: true };
  });

  app.post('/device/v1/unmute', opts, async (req) => {
    const u = await userOf(req);
    const b = parse(ConversationRef, req.body);
    await conversations.unmute(db, u.appId, u.user, conversationKey(b));
    return { ok: true };
  });

  app.get('/device/v1/mutes', opts, async (req) => {
    const u = await userOf(req);
    const list = await conversations.mutesOf(db, u.appId, u.user, Date.now());
    return {
      conversations: list.flatMap((m) => {
        const c = parseConversationKey(m.conversation);
        return c ? [{ ...c, until: m.mutedUntil }] : [];
      }),
    };
  });

  app.get('/device/v1/dnd', opts, async (req) => {
    const u = await userOf(req);
    const h = (await conversations.dndHoursOf(db, u.appId, [u.user])).get(u.user);
    return { dnd: h ? { start: hhmm(h.startMinute), end: hhmm(h.endMinute), timeZone: h.timeZone } : null };
  });

  app.put('/device/v1/dnd', opts, async (req) => {
    const u = await userOf(req);
    const b = parse(DndBody, req.body);
    await conversations.setDnd(db, u.appId, u.user, { startMinute: b.start, endMinute: b.end, timeZone: b.timeZone ?? null }, Date.now());
    return { ok: true };
  });

  app.delete('/device/v1/dnd', opts, async (req) => {
    const u = await userOf(req);
    await conversations.clearDnd(db, u.appId, u.user);
    return { ok: true };
  });

  app.put('/device/v1/badge', opts, async (req) => {
    const u = await userOf(req);
    const { count } = parse(BadgeBody, req.body);
    await conversations.setBadge(db, u.appId, u.user, count, Date.now());
    return { ok: true };
  });
}
