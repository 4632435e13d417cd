import crypto from 'node:crypto';
import webpush from 'web-push';
import { z } from 'zod';
import { withRetries } from '../net/retry.js';
import type { WebPushEncryption } from './webpush-encryption.js';
import type { EncryptJob, EncryptResult } from './webpush-encrypt.js';
import { overwriteRecall, type CertificateCheck, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { httpPost } from '../net/http-post.js';
import { settleAmbiguous, tokenOrCertificate, type Classified } from './ambiguous.js';

/** Push services need not take more than 4,096 bytes of body: 3,993 of plaintext (RFC 8291 §4). */
const MAX_PLAINTEXT = 3993;
const CONCURRENCY = 64;

interface WebPushConfig {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/**
 * Web Push (RFC 8030, RFC 8291, RFC 8292). Messages are encrypted in batches off the event loop
 * (webpush-encryption.ts) and signed with a VAPID header kept per push service; the requests go
 * out on Herald's keep-alive pool (net/http-post.ts), where the `web-push` library would open a
 * connection per message.
 */
export function createWebPushAdapter(encryption: WebPushEncryption): VendorAdapter {
  const adapter: VendorAdapter = {
    // the replacement carries the same Topic, so it replaces a copy the push service still holds (§10)
    recall: (config, r) => overwriteRecall(adapter)(config, r),
    async send(config, message: VendorMessage, targets: readonly VendorTarget[], ctx): Promise<VendorResult[]> {
      const c = config as unknown as WebPushConfig;
      const ttl = Math.max(0, Math.floor((message.expiresAt - Date.now()) / 1000));
      // a recall or a resend replaces an undelivered copy on the push service
      const topic = message.taskId.replace(/[^A-Za-z0-9_-]/g, '').slice(-32);
      const call = message.render(null).call !== undefined;
      const prepared = targets.map((t) => prepare(message, t));
      // every chunk is queued for encryption at once; a chunk is sent while the next is encrypted
      const chunks: Promise<EncryptResult[]>[] = [];
      for (let i = 0; i < prepared.length; i += CONCURRENCY) {
        chunks.push(encryption.encrypt(prepared.slice(i, i + CONCURRENCY).flatMap((p) => ('job' in p ? [p.job] : []))));
      }
      const out: Classified[] = [];
      for (let i = 0, k = 0; i < prepared.length; i += CONCURRENCY, k++) {
        const bodies = (await chunks[k]!).values();
        const sends = prepared.slice(i, i + CONCURRENCY).map((p): Promise<Classified> | Classified => {
          if ('done' in p) return { result: p.done };
          const r = bodies.next().value!;
          if ('error' in r) return { result: { registrationId: p.registrationId, outcome: 'dead', code: 400, info: `unusable subscription: ${r.error}` } };
          const headers = {
            authorization: vapidAuthorization(c, p.endpoint),
            'content-encoding': 'aes128gcm',
            'content-type': 'application/octet-stream',
            ttl: String(ttl),
            // a call must ring now: the highest Urgency (RFC 8030 §5.3)
            urgency: call ? 'high' : 'normal',
            topic,
          };
          return post(p.registrationId, p.endpoint, headers, r.body, ctx.certificateProven === true);
        });
        out.push(...(await Promise.all(sends)));
      }
      return settleAmbiguous(out);
    },
    check: async (config) => checkVapid(config as unknown as WebPushConfig),
  };
  return adapter;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * What can be checked without a subscription: that the VAPID keys are a P-256 pair in the form
 * RFC 8292 §3.2 sends (the public key uncompressed, 65 bytes; the private key 32), that they sign a
 * token, and the subject. Push services judge the key only per subscription (one restricted to
 * another key is refused, RFC 8292 §4.2), which needs a browser's subscription.
 */
function checkVapid(c: WebPushConfig): CertificateCheck {
  const bad = (info: string): CertificateCheck => ({ ok: false, code: 0, info });
  const pub = B64URL.test(c.publicKey) ? Buffer.from(c.publicKey, 'base64url') : Buffer.alloc(0);
  if (pub.length !== 65 || pub[0] !== 4) return bad('publicKey is not an uncompressed P-256 point (65 bytes, base64url)');
  const priv = B64URL.test(c.privateKey) ? Buffer.from(c.privateKey, 'base64url') : Buffer.alloc(0);
  if (priv.length !== 32) return bad('privateKey is not a P-256 private key (32 bytes, base64url)');
  let derived: Buffer;
  try {
    const ecdh = crypto.createECDH('prime256v1');
    ecdh.setPrivateKey(priv);
    derived = ecdh.getPublicKey();
  } catch (err) {
    return bad(`privateKey is not a P-256 private key: ${(err as Error).message}`);
  }
  // a pair that does not match signs tokens no push service can verify with the public key (RFC 8292 §2: 403)
  if (!derived.equals(pub)) return bad("publicKey is not privateKey's public key: push services would refuse every message (403)");
  try {
    webpush.getVapidHeaders('https://push.example', c.subject, c.publicKey, c.privateKey, 'aes128gcm');
  } catch (err) {
    return bad(`the VAPID token cannot be signed: ${(err as Error).message}`);
  }
  return { ok: true, info: `the VAPID key pair is a P-256 pair and signs tokens for ${c.subject}; push services judge it per subscription, which this check has none of` };
}

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

/**
 * The message as the gateway's `m` (its `chat` or `call` included) with the TaskId, and the
 * device's unread count as `badge`: Web Push sets no badge itself, the service worker can.
 */
function payloadFor(message: VendorMessage, t: VendorTarget): string | null {
  const m = { ...message.render(t.locale), ...(t.badge !== undefined ? { badge: t.badge } : {}) };
  let text = JSON.stringify({ id: message.taskId, ...m });
  if (Buffer.byteLength(text) > MAX_PLAINTEXT) {
    // the vendor fields are for native SDKs; a browser can do without them
    const { info: _info, ...slim } = m;
    text = JSON.stringify({ id: message.taskId, ...slim });
  }
  return Buffer.byteLength(text) > MAX_PLAINTEXT ? null : text;
}

type Prepared = { registrationId: string; endpoint: string; job: EncryptJob } | { done: VendorResult };

/** The device's subscription and payload, or the loss when either cannot be used. */
function prepare(message: VendorMessage, t: VendorTarget): Prepared {
  const payload = payloadFor(message, t);
  if (payload === null) return { done: { registrationId: t.registrationId, outcome: 'failed', code: 413, info: `payload over ${MAX_PLAINTEXT} bytes` } };
  const sub = Subscription.safeParse(safeJson(t.token));
  if (!sub.success) return { done: { registrationId: t.registrationId, outcome: 'dead', code: 400, info: `unusable subscription: ${sub.error.issues[0]?.message ?? 'not a PushSubscription'}` } };
  return { registrationId: t.registrationId, endpoint: sub.data.endpoint, job: { p256dh: sub.data.keys.p256dh, auth: sub.data.keys.auth, payload } };
}

const Subscription = z.object({ endpoint: z.url(), keys: z.object({ p256dh: z.string().min(1), auth: z.string().min(1) }) });

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One push and the push service's answer (RFC 8030 §5, §7; RFC 8292 §2, §4.2):
 * - 201 (some services 200 or 202): sent;
 * - 404/410: the subscription is gone for good: the token is cleared (reference §10);
 * - 401/403: the VAPID token was refused. For a signature or claims the service cannot verify that
 *   is the certificate's keys; for a subscription restricted to another key (made with an earlier
 *   applicationServerKey) it is that subscription's: so it stops a certificate never taken, unless
 *   another device of the call was taken, and is a loss keeping the token for a proven one;
 * - 413: the payload is too big: a loss, not retried;
 * - 429 and 5xx: retried, honouring Retry-After.
 */
function post(id: string, endpoint: string, headers: Record<string, string>, body: Uint8Array, proven: boolean): Promise<Classified> {
  return withRetries<Classified>(
    async () => {
      const res = await httpPost(endpoint, headers, body);
      const text = (await res.text().catch(() => '')) || res.statusText;
      if (res.status === 200 || res.status === 201 || res.status === 202) return { done: { result: { registrationId: id, outcome: 'sent' } } };
      if (res.status === 404 || res.status === 410) return { done: { result: { registrationId: id, outcome: 'dead', code: res.status, info: text } } };
      if (res.status === 401 || res.status === 403) return { done: tokenOrCertificate(id, res.status, `VAPID refused: ${text}; check the certificate's publicKey, privateKey and subject`, proven) };
      if (res.status === 429 || res.status >= 500) return { later: `${res.status} ${text}`, retryAfter: res.headers.get('retry-after') };
      return { done: { result: { registrationId: id, outcome: 'failed', code: res.status, info: res.status === 413 ? `payload too large: ${text}` : text } } };
    },
    (info, code) => ({ result: { registrationId: id, outcome: 'failed', code, info } }),
  );
}
