import webpush from 'web-push';
import { withRetries } from '../net/retry.js';
import { overwriteRecall, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { httpPost } from '../net/http-post.js';

/** Push services need not take more than 4,096 bytes of body: 3,993 of plaintext (RFC 8291 §4). */
const MAX_PLAINTEXT = 3993;
const CONCURRENCY = 64;

interface WebPushConfig {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/**
 * Web Push (RFC 8030, RFC 8291, RFC 8292). The `web-push` library encrypts (aes128gcm) and signs
 * (VAPID); the request itself goes out on Herald's keep-alive pool (net/http-post.ts), where the
 * library would open a connection per message.
 */
export const webPushAdapter: VendorAdapter = {
  // the replacement carries the same Topic, so it replaces a copy the push service still holds (§10)
  recall: (config, r) => overwriteRecall(webPushAdapter)(config, r),
  async send(config, message: VendorMessage, targets: readonly VendorTarget[]): Promise<VendorResult[]> {
    const c = config as unknown as WebPushConfig;
    const ttl = Math.max(0, Math.floor((message.expiresAt - Date.now()) / 1000));
    const out: VendorResult[] = [];
    for (let i = 0; i < targets.length; i += CONCURRENCY) {
      out.push(...(await Promise.all(targets.slice(i, i + CONCURRENCY).map((t) => sendOne(c, message, t, ttl)))));
    }
    return out;
  },
};

/** A VAPID JWT lives 12 hours (RFC 8292 allows up to 24) and is renewed an hour before it ends. */
const VAPID_LIFETIME_S = 12 * 3600;
const VAPID_RENEW_S = 3600;

/**
 * VAPID Authorization headers per push service origin and key, reused until near their expiry
 * (RFC 8292 §2: a token may be reused for its audience): signing a fresh ES256 JWT for every
 * message cost more than encrypting it.
 */
const vapidHeaders = new Map<string, { authorization: string; renewAt: number }>();

function vapidAuthorization(c: WebPushConfig, endpoint: string): string {
  const audience = new URL(endpoint).origin;
  const key = `${audience} ${c.subject} ${c.publicKey} ${c.privateKey}`;
  const now = Math.floor(Date.now() / 1000);
  const hit = vapidHeaders.get(key);
  if (hit && hit.renewAt > now) return hit.authorization;
  const authorization = webpush.getVapidHeaders(audience, c.subject, c.publicKey, c.privateKey, 'aes128gcm', now + VAPID_LIFETIME_S).Authorization;
  if (vapidHeaders.size > 10_000) vapidHeaders.clear();
  vapidHeaders.set(key, { authorization, renewAt: now + VAPID_LIFETIME_S - VAPID_RENEW_S });
  return authorization;
}

function payloadFor(message: VendorMessage, t: VendorTarget): string | null {
  const m = message.render(t.locale);
  let text = JSON.stringify({ id: message.taskId, ...m });
  if (Buffer.byteLength(text) > MAX_PLAINTEXT) {
    // the vendor fields are for native SDKs; a browser can do without them
    const { info: _info, ...slim } = m;
    text = JSON.stringify({ id: message.taskId, ...slim });
  }
  return Buffer.byteLength(text) > MAX_PLAINTEXT ? null : text;
}

async function sendOne(c: WebPushConfig, message: VendorMessage, t: VendorTarget, ttl: number): Promise<VendorResult> {
  const payload = payloadFor(message, t);
  if (payload === null) return { registrationId: t.registrationId, outcome: 'failed', code: 413, info: `payload over ${MAX_PLAINTEXT} bytes` };
  let details: ReturnType<typeof webpush.generateRequestDetails>;
  try {
    const subscription = JSON.parse(t.token) as webpush.PushSubscription;
    details = webpush.generateRequestDetails(subscription, payload, {
      // no vapidDetails: the library would sign a new JWT per message; the signed header is kept instead
      headers: { Authorization: vapidAuthorization(c, subscription.endpoint) },
      TTL: ttl,
      urgency: 'normal',
      // a recall or a resend replaces an undelivered copy on the push service
      topic: message.taskId.replace(/[^A-Za-z0-9_-]/g, '').slice(-32),
    });
  } catch (err) {
    return { registrationId: t.registrationId, outcome: 'dead', code: 400, info: `unusable subscription: ${(err as Error).message}` };
  }
  const id = t.registrationId;
  return withRetries<VendorResult>(
    async () => {
      const res = await httpPost(details.endpoint, details.headers as Record<string, string>, new Uint8Array(details.body as Buffer));
      const text = await res.text().catch(() => '');
      // RFC 8030 §5: 201 Created; some services answer 200 or 202
      if (res.status === 200 || res.status === 201 || res.status === 202) return { done: { registrationId: id, outcome: 'sent' } };
      // 404/410: the subscription is gone for good; delete it (reference §10)
      if (res.status === 404 || res.status === 410) return { done: { registrationId: id, outcome: 'dead', code: res.status, info: text || res.statusText } };
      // 429 and 5xx: back off and retry, a bounded number of times, honouring Retry-After
      if (res.status === 429 || res.status >= 500) return { later: `${res.status} ${text}`, retryAfter: res.headers.get('retry-after') };
      return { done: { registrationId: id, outcome: 'failed', code: res.status, info: text || res.statusText } };
    },
    (info, code) => ({ registrationId: id, outcome: 'failed', code, info }),
  );
}
