import { z } from 'zod';
import { isTimeZone } from '../../dispatch/index.js';

/** The device API's inputs (docs/protocol.md §2). */

export const Platform = z.enum(['android', 'ios', 'harmony', 'web', 'node', 'electron', 'react-native', 'other']);
export const Vendor = z.enum(['apns', 'apns-voip', 'fcm', 'huawei', 'honor', 'xiaomi', 'oppo', 'vivo', 'meizu', 'nio', 'harmony', 'webpush']);

const shortText = (max: number) => z.string().min(1).max(max);

const Mutable = {
  platform: Platform.optional(),
  vendor: Vendor.nullable().optional(),
  token: z.string().min(1).max(4096).nullable().optional(),
  /** APNs: the PushKit VoIP token, kept beside the alert token in `token` (vendor `apns`). */
  voipToken: z.string().min(1).max(4096).nullable().optional(),
  certificateId: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  locale: z.string().regex(/^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$/, 'locale must be a BCP 47 tag').optional(),
  timeZone: shortText(64).optional(),
  appVersion: shortText(64).optional(),
  sdkVersion: shortText(64).optional(),
  deviceModel: shortText(128).optional(),
  osVersion: shortText(64).optional(),
  notificationPermission: z.enum(['granted', 'denied', 'default']).optional(),
};

/** A browser's PushSubscription as `toJSON()` gives it (RFC 8030 endpoint, RFC 8291 keys). */
export const WebPushSubscription = z.object({
  endpoint: z.url().refine((u) => u.startsWith('https://') || u.startsWith('http://127.') || u.startsWith('http://localhost'), 'endpoint must be https'),
  keys: z.object({ p256dh: z.string().regex(/^[A-Za-z0-9_-]{80,100}={0,2}$/, 'keys.p256dh must be a base64url P-256 public key'), auth: z.string().regex(/^[A-Za-z0-9_-]{16,24}={0,2}$/, 'keys.auth must be a base64url 16-byte secret') }),
  expirationTime: z.number().nullable().optional(),
});

/** A Web Push token is the subscription itself, as JSON text, sent with vendor `webpush`. */
function checkWebPushToken(b: { vendor?: string | null; token?: string | null }, ctx: z.RefinementCtx): void {
  if (b.vendor !== 'webpush' || typeof b.token !== 'string') return;
  let json: unknown;
  try {
    json = JSON.parse(b.token);
  } catch {
    ctx.addIssue({ code: 'custom', path: ['token'], message: 'a webpush token must be the PushSubscription as JSON' });
    return;
  }
  const r = WebPushSubscription.safeParse(json);
  if (!r.success) ctx.addIssue({ code: 'custom', path: ['token', ...r.error.issues[0]!.path.map(String)], message: r.error.issues[0]!.message });
}

/**
 * A token sent with vendor `apns-voip` (a PushKit token registered on its own) is the device's VoIP
 * token: it is stored as `voipToken`, and the device's alert token, if it has one, stays.
 */
function legacyVoip<T extends { vendor?: string | null; token?: string | null; voipToken?: string | null }>(b: T): T {
  if (b.vendor !== 'apns-voip' || b.token === undefined) return b;
  const { token, ...rest } = b;
  return { ...rest, voipToken: b.voipToken ?? token } as T;
}

export const RegisterBody = z.object({
  ...Mutable,
  installId: z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/, 'installId must be 8–128 characters of A-Z a-z 0-9 . _ : -'),
  registrationId: z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'registrationId must be 1–128 characters of A-Z a-z 0-9 . _ : @ -').optional(),
  platform: Platform,
}).superRefine(checkWebPushToken).transform(legacyVoip);
export type RegisterBody = z.infer<typeof RegisterBody>;

export const UpdateBody = z.object(Mutable).superRefine(checkWebPushToken).transform(legacyVoip);
export type UpdateBody = z.infer<typeof UpdateBody>;

export const BindBody = z.object({
  userId: z.string().min(1).refine((s) => Buffer.byteLength(s, 'utf8') <= 128, 'userId must be at most 128 bytes'),
});

/** A conversation as its user sees it: the other user's UserID (`c2c`) or the GroupID (`group`). */
export const ConversationRef = z.object({
  type: z.enum(['c2c', 'group']),
  id: z.string().min(1).refine((s) => Buffer.byteLength(s, 'utf8') <= 128, 'id must be at most 128 bytes'),
});

export const MuteBody = ConversationRef.extend({
  /** Epoch milliseconds; absent or null = until unmuted. */
  until: z.number().int().positive().max(8.64e15).nullable().optional(),
});

const HourMinute = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)').transform((s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3)));

export const DndBody = z
  .object({
    start: HourMinute,
    end: HourMinute,
    timeZone: z.string().min(1).max(64).refine(isTimeZone, 'timeZone must be an IANA time zone name').nullable().optional(),
  })
  .refine((b) => b.start !== b.end, 'start and end must differ');

export const BadgeBody = z.object({ count: z.number().int().min(0).max(1_000_000) });

export const ClickBody = z.object({ messageId: z.string().min(1).max(128) });

export const AppHeaders = z.object({
  'x-herald-sdkappid': z.string().regex(/^\d{1,12}$/, 'X-Herald-SdkAppId must be a numeric SDKAppID'),
  'x-herald-appkey': z.string().min(1).max(256),
});

export const DeviceHeaders = z.object({
  'x-herald-registration-id': z.string().min(1).max(128),
  authorization: z.string().regex(/^Bearer \S+$/, 'Authorization must be "Bearer <credential>"'),
});
