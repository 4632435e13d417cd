import crypto from 'node:crypto';
import http from 'node:http';
import { LoopbackEmulator } from './loopback.js';

/**
 * A Web Push service (RFC 8030) with the browser behind it, on loopback. It hands out
 * subscriptions whose keys it holds, and for each push it checks what a push service checks —
 * the VAPID authorization (RFC 8292: 401 when absent, 403 when its signature or claims are invalid
 * or, for a subscription restricted to an application server key, signed by another key), the TTL
 * header, `Content-Encoding: aes128gcm` and the 4,096-byte body limit — then decrypts the payload
 * (RFC 8291) as the browser would and keeps it. Written from
 * the RFCs on node:crypto alone: it shares nothing with Herald's sender, so a test between them can fail.
 */
export interface WebPushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  /** The subscription's id (last path segment). */
  id: string;
  /** The decrypted payload, as text. */
  payload: string;
  ttl: number;
  urgency: string;
  topic: string | undefined;
  /** The VAPID public key and JWT claims the sender signed with. */
  vapidKey: string;
  claims: { aud: string; exp: number; sub?: string };
}

/** A canned answer for the next pushes to a subscription (or to all, when id is '*'). */
export interface Failure {
  status: number;
  retryAfter?: number;
  times?: number;
}

interface Sub {
  ecdh: crypto.ECDH;
  publicKey: Buffer;
  auth: Buffer;
  /** The applicationServerKey the page subscribed with (base64url), if any: only it may push (RFC 8292 §4). */
  restrictedTo?: string;
}

const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
const b64u = (b: Buffer) => b.toString('base64url');

function hkdf(salt: Buffer, ikm: Buffer, info: Buffer, length: number): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info, length));
}

export class WebPushEmulator extends LoopbackEmulator {
  private verifiedTokens = new Set<string>();
  readonly received: ReceivedPush[] = [];
  /** Every request, accepted or not, with the status it got. */
  readonly requests: { id: string; status: number; reason?: string }[] = [];
  private subs = new Map<string, Sub>();
  private failures = new Map<string, Failure>();

  /**
   * A new browser subscription: what `pushManager.subscribe()` would give the page; with an
   * `applicationServerKey` (a VAPID public key, base64url) it is restricted to that key (RFC 8292 §4.1).
   */
  subscribe(applicationServerKey?: string): WebPushSubscriptionJson {
    const id = crypto.randomBytes(12).toString('hex');
    const ecdh = crypto.createECDH('prime256v1');
    const publicKey = ecdh.generateKeys();
    const auth = crypto.randomBytes(16);
    this.subs.set(id, { ecdh, publicKey, auth, ...(applicationServerKey ? { restrictedTo: applicationServerKey } : {}) });
    return { endpoint: `${this.base}/push/${id}`, keys: { p256dh: b64u(publicKey), auth: b64u(auth) } };
  }

  /** The browser unsubscribed: the push service answers 410 from now on. */
  unsubscribe(endpoint: string): void {
    this.subs.delete(endpoint.split('/').pop()!);
  }

  failNext(id: string, f: Failure): void {
    this.failures.set(id, { times: 1, ...f });
  }

  private reply(res: http.ServerResponse, id: string, status: number, reason?: string, headers: Record<string, string> = {}): void {
    this.requests.push({ id, status, reason });
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(reason ?? '');
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
    const body = raw;
    const m = /^\/push\/([0-9a-f]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return this.reply(res, '', 404, 'not found');
    const id = m[1]!;
    const failure = this.failures.get(id) ?? this.failures.get('*');
    if (failure) {
      if (failure.times !== undefined && --failure.times <= 0) this.failures.delete(this.failures.has(id) ? id : '*');
      return this.reply(res, id, failure.status, 'injected', failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {});
    }
    const sub = this.subs.get(id);
    if (!sub) return this.reply(res, id, 410, 'subscription expired or unsubscribed');
    const vapid = this.checkVapid(String(req.headers.authorization ?? ''));
    if ('status' in vapid) return this.reply(res, id, vapid.status, vapid.reason);
    if (sub.restrictedTo !== undefined && sub.restrictedTo !== vapid.key) return this.reply(res, id, 403, 'the VAPID key is not the one the subscription was made with (RFC 8292 §4.2)');
    const ttl = Number(req.headers.ttl);
    if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) return this.reply(res, id, 400, 'TTL header required (RFC 8030 §5.2)');
    if (req.headers['content-encoding'] !== 'aes128gcm') return this.reply(res, id, 415, 'Content-Encoding must be aes128gcm');
    if (body.length > 4096) return this.reply(res, id, 413, 'payload too large');
    const urgency = String(req.headers.urgency ?? 'normal');
    if (!URGENCIES.has(urgency)) return this.reply(res, id, 400, 'bad Urgency (RFC 8030 §5.3)');
    const topic = req.headers.topic as string | undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return this.reply(res, id, 400, 'bad Topic');
    let payload: string;
    try {
      payload = this.decrypt(sub, body);
    } catch (err) {
      return this.reply(res, id, 400, `cannot decrypt: ${(err as Error).message}`);
    }
    this.received.push({ id, payload, ttl, urgency, topic, vapidKey: vapid.key, claims: vapid.claims });
    this.reply(res, id, 201, undefined, { location: `${this.base}/message/${crypto.randomBytes(6).toString('hex')}` });
  }

  /**
   * RFC 8292: `vapid t=<ES256 JWT>, k=<P-256 public key>`, aud = this origin, exp within 24 h. Else
   * the refusal: 401 when there is no vapid authorization, 403 when it is invalid (§2, §4.2).
   */
  private checkVapid(header: string): { key: string; claims: ReceivedPush['claims'] } | { status: 401 | 403; reason: string } {
    const t = /(?:^|[ ,])t=([^,\s]+)/.exec(header.replace(/^vapid\s+/i, ' '))?.[1];
    const k = /(?:^|[ ,])k=([^,\s]+)/.exec(header.replace(/^vapid\s+/i, ' '))?.[1];
    if (!/^vapid /i.test(header) || !t || !k) return { status: 401, reason: 'Authorization must be vapid t=…, k=…' };
    const invalid = (reason: string) => ({ status: 403 as const, reason });
    const [h, p, s] = t.split('.');
    if (!h || !p || !s) return invalid('malformed JWT');
    let head: { alg?: string };
    let claims: ReceivedPush['claims'];
    try {
      head = JSON.parse(Buffer.from(h, 'base64url').toString()) as typeof head;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as ReceivedPush['claims'];
    } catch {
      return invalid('malformed JWT');
    }
    if (head.alg !== 'ES256') return invalid('JWT alg must be ES256');
    const raw = Buffer.from(k, 'base64url');
    if (raw.length !== 65 || raw[0] !== 4) return invalid('k must be an uncompressed P-256 point');
    // a sender reuses its signed token for hours (RFC 8292 §2): its signature is checked once
    if (!this.verifiedTokens.has(`${t} ${k}`)) {
      let ok: boolean;
      try {
        const key = crypto.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(raw.subarray(1, 33)), y: b64u(raw.subarray(33)) }, format: 'jwk' });
        ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
      } catch {
        return invalid('k is not a P-256 public key');
      }
      if (!ok) return invalid('JWT signature does not verify with k');
      if (this.verifiedTokens.size > 10_000) this.verifiedTokens.clear();
      this.verifiedTokens.add(`${t} ${k}`);
    }
    if (claims.aud !== this.base) return invalid(`JWT aud must be ${this.base}`);
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 86400) return invalid('JWT exp must be within 24 hours');
    return { key: k, claims };
  }

  /** RFC 8291 §3 with the RFC 8188 aes128gcm record: salt, rs, keyid (the sender's public key), one record. */
  private decrypt(sub: Sub, body: Buffer): string {
    const salt = body.subarray(0, 16);
    const rs = body.readUInt32BE(16);
    const idlen = body[20]!;
    const senderKey = body.subarray(21, 21 + idlen);
    const record = body.subarray(21 + idlen);
    if (rs < 18 || record.length > rs) throw new Error('record size');
    const shared = sub.ecdh.computeSecret(senderKey);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.publicKey, senderKey]);
    const ikm = hkdf(sub.auth, shared, keyInfo, 32);
    const cek = hkdf(salt, ikm, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
    const nonce = hkdf(salt, ikm, Buffer.from('Content-Encoding: nonce\0'), 12);
    const decipher = crypto.createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    // the last record ends with the 0x02 delimiter, then zero padding
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (plain[end] !== 2) throw new Error('padding delimiter');
    return plain.subarray(0, end).toString('utf8');
  }
}
