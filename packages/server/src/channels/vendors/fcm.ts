import crypto from 'node:crypto';
import { overwriteRecall, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { withRetries } from '../net/retry.js';
import { http2Pool } from '../net/http2-pool.js';
import { fitText } from './truncate.js';
import { AccessTokens, tokenRequest } from '../net/access-tokens.js';
import { heraldPayload } from './push-data.js';

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const FCM_HOST = 'https://fcm.googleapis.com';

interface FcmConfig {
  serviceAccount: { project_id: string; client_email: string; private_key: string; token_uri?: string };
  baseUrl?: string;
  tokenUrl?: string;
  caCertificate?: string;
}

/** FCM over HTTP/2: many messages in flight on each connection (vendor-protocols.md §2.1). */
const poolOf = (url: string, c: FcmConfig) => http2Pool('fcm', url, c.caCertificate);

/** The OAuth2 JWT bearer grant (vendor-protocols.md §2.2): an RS256 assertion with iss, scope, aud and a one-hour exp. */
function grant(c: FcmConfig): Promise<{ token: string; expiresIn: number }> {
  const aud = tokenUrlOf(c);
  const iat = Math.floor(Date.now() / 1000);
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iss: c.serviceAccount.client_email, scope: SCOPE, aud, iat, exp: iat + 3600 })}`;
  const sig = crypto.sign('sha256', Buffer.from(unsigned), c.serviceAccount.private_key).toString('base64url');
  return tokenRequest(aud, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${unsigned}.${sig}` }, 'FCM', async (url, body) => {
    const r = await poolOf(url, c).exchange(new URL(url).pathname, { 'content-type': 'application/x-www-form-urlencoded' }, body);
    return { status: r.status, text: r.body };
  });
}

const tokenUrlOf = (c: FcmConfig) => c.tokenUrl ?? c.serviceAccount.token_uri ?? GOOGLE_TOKEN_URL;

/** FCM's limit on a message's payload (vendor-protocols.md §2.5). */
const MAX_PAYLOAD = 4096;

/**
 * The FCM v1 Message for one device (§2.3): notification, data (Herald's payload, strings only),
 * android options. The badge (`notification_count`) is the device's unread count, else
 * BadgeSetNum. A call goes at priority HIGH with notification_priority PRIORITY_MAX, FCM's
 * highest; FCM has no call category or notification group (a chat push keeps its own tag, so a
 * recall replaces only it). Over 4,096 bytes the body text is cut to fit; null when the rest alone
 * is too big.
 */
function messageFor(message: VendorMessage, t: VendorTarget, ttl: number): string | null {
  const m = message.render(t.locale);
  const a = (m.info.AndroidInfo ?? {}) as Record<string, unknown>;
  const data = heraldPayload(message.taskId, m);
  const notification: Record<string, unknown> = { tag: message.taskId.slice(-64) };
  if (typeof a.GoogleChannelID === 'string' && a.GoogleChannelID) notification.channel_id = a.GoogleChannelID;
  if (typeof a.Sound === 'string' && a.Sound) notification.sound = a.Sound;
  if (typeof a.GoogleImage === 'string' && a.GoogleImage) notification.image = a.GoogleImage;
  const count = t.badge ?? m.info.BadgeSetNum;
  if (typeof count === 'number') notification.notification_count = count;
  if (m.call) notification.notification_priority = 'PRIORITY_MAX';
  const android = { ttl: `${ttl}s`, priority: a.GooglePriority === 'high' || m.call ? 'HIGH' : 'NORMAL', notification };
  return fitText(m.desc, MAX_PAYLOAD, (body) => JSON.stringify({ message: { token: t.token, notification: { title: m.title, body }, data, android } }));
}

const tokens = new AccessTokens();

/** Firebase Cloud Messaging HTTP v1, one message per device, many in flight on pooled HTTP/2 connections. */
export const fcmAdapter: VendorAdapter = {
  // FCM has no recall (vendor-protocols.md §2.5): the replacement takes the same notification tag
  recall: (config, r) => overwriteRecall(fcmAdapter)(config, r),
  async send(config, message, targets): Promise<VendorResult[]> {
    const c = config as unknown as FcmConfig;
    const url = `${c.baseUrl ?? FCM_HOST}/v1/projects/${encodeURIComponent(c.serviceAccount.project_id)}/messages:send`;
    const ttl = Math.max(0, Math.floor((message.expiresAt - Date.now()) / 1000));
    // every device at once: the HTTP/2 pool holds what exceeds the streams FCM allows
    return Promise.all(targets.map((t) => sendOne(c, url, messageFor(message, t, ttl), t.registrationId)));
  },
};

async function sendOne(c: FcmConfig, url: string, body: string | null, registrationId: string): Promise<VendorResult> {
  if (body === null) return { registrationId, outcome: 'failed', code: 400, info: `payload over FCM's ${MAX_PAYLOAD} bytes even with the text cut; shorten Title or Ext` };
  const pool = poolOf(url, c);
  const path = new URL(url).pathname;
  return withRetries<VendorResult>(
    async (fresh) => {
      const token = await tokens.get(`${tokenUrlOf(c)} ${c.serviceAccount.client_email}`, fresh, () => grant(c));
      const res = await pool.exchange(path, { authorization: `Bearer ${token}` }, body);
      if (res.status === 200) return { done: { registrationId, outcome: 'sent' } };
      let answer: { error?: { message?: string; details?: { errorCode?: string }[] } } = {};
      try {
        answer = JSON.parse(res.body) as typeof answer;
      } catch {
        // not FCM's error shape: classified by status alone
      }
      const errorCode = answer.error?.details?.find((d) => d.errorCode)?.errorCode ?? '';
      const info = `${errorCode || res.status} ${answer.error?.message ?? ''}`.trim();
      // §2.4: UNREGISTERED drops the token; SENDER_ID_MISMATCH means it belongs to another project
      if (errorCode === 'UNREGISTERED' || errorCode === 'SENDER_ID_MISMATCH' || res.status === 404) return { done: { registrationId, outcome: 'dead', code: res.status, info } };
      // the access token expired or was revoked: get a new one and retry once
      if (res.status === 401) return { auth: info };
      const retryAfter = res.headers['retry-after'];
      if (res.status === 429 || res.status >= 500) return { later: `${res.status} ${info}`, retryAfter: typeof retryAfter === 'string' ? retryAfter : null };
      return { done: { registrationId, outcome: 'failed', code: res.status, info } };
    },
    (info, code) => ({ registrationId, outcome: 'failed', code, info }),
  );
}
