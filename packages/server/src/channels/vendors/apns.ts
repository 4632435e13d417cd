import crypto from 'node:crypto';
import type { ApnsInfo, OfflinePushInfo } from '../../dispatch/offline-push-info.js';
import type { z } from 'zod';
import { LossReason } from '../../stats/loss-reasons.js';
import { withRetries, type Answer } from '../net/retry.js';
import { http2Pool, type Http2Pool, type Http2Reply } from '../net/http2-pool.js';
import { fitText } from './truncate.js';
import { heraldPayload } from './push-data.js';
import { conversationKey } from '../../dispatch/message.js';
import { Semaphore } from '../../util/semaphore.js';
import type { CertificateCheck, VendorAdapter, VendorMessage, VendorResult, VendorTarget } from '../vendor.js';

/** Apple's provider API hosts (vendor-protocols.md §1.1). */
const HOSTS = { production: 'https://api.push.apple.com', sandbox: 'https://api.sandbox.push.apple.com' };
/** Payload limits: 4 KB, VoIP 5 KB (§1.4, §1.5). */
const MAX_PAYLOAD = 4096;
const MAX_VOIP_PAYLOAD = 5120;
/** apns-collapse-id is at most 64 bytes (§1.3). */
const MAX_COLLAPSE_ID = 64;
/** JWTs live an hour and may be renewed no more often than every 20 minutes (§1.2): renew at 50. */
export const JWT_RENEW_MS = 50 * 60_000;
/** Sessions per key, host and CA: APNs allows several connections for throughput (§1.1). */
const MAX_SESSIONS = 4;
/** A ceiling on the streams one session carries, whatever the server advertises. */
const MAX_STREAMS = 1000;
/** What a recall shows when it names no replacement text: APNs can only overwrite (§1.7). */
const WITHDRAWN = 'This message was withdrawn';

interface ApnsConfig {
  keyId: string;
  teamId: string;
  bundleId: string;
  privateKey: string;
  production: boolean;
  voipTopic?: string;
  baseUrl?: string;
  caCertificate?: string;
  /** Requests in flight at once for this certificate, over every session; absent, as many as the sessions carry. */
  maxStreams?: number;
}

type ApnsOptions = z.infer<typeof ApnsInfo>;

// ---- provider tokens (§1.2) ----

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** An ES256 JWT: header {alg, kid}, claims {iss, iat}; the signature in JOSE's r||s form. */
function mintJwt(c: Pick<ApnsConfig, 'keyId' | 'teamId' | 'privateKey'>, now: number): string {
  const key = crypto.createPrivateKey(c.privateKey);
  // node would sign with any key; APNs takes only ES256, from a P-256 key (§1.2)
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not a P-256 EC key (an APNs .p8 key)');
  const unsigned = `${b64url({ alg: 'ES256', kid: c.keyId })}.${b64url({ iss: c.teamId, iat: Math.floor(now / 1000) })}`;
  const sig = crypto.sign('sha256', Buffer.from(unsigned), { key, dsaEncoding: 'ieee-p1363' });
  return `${unsigned}.${sig.toString('base64url')}`;
}

/**
 * Provider JWTs per key, reused across every request and session: APNs answers
 * TooManyProviderTokenUpdates to a key renewed more often than every 20 minutes (§1.2), so a token is
 * renewed only at 50 minutes, or when APNs called it expired.
 */
export class ProviderTokens {
  private cache = new Map<string, { jwt: string; mintedAt: number }>();

  constructor(private now: () => number = Date.now) {}

  /** `refused`: the JWT APNs just answered ExpiredProviderToken to; renewed once, unless another request already did. */
  get(c: Pick<ApnsConfig, 'keyId' | 'teamId' | 'privateKey'>, refused?: string): string {
    const key = keyOf(c);
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && (refused !== undefined ? hit.jwt !== refused : now - hit.mintedAt < JWT_RENEW_MS)) return hit.jwt;
    const jwt = mintJwt(c, now);
    this.cache.set(key, { jwt, mintedAt: now });
    return jwt;
  }

  /** APNs refused the key itself (InvalidProviderToken, …): keep nothing made from it. */
  forget(c: Pick<ApnsConfig, 'keyId' | 'teamId' | 'privateKey'>, jwt: string): void {
    const key = keyOf(c);
    if (this.cache.get(key)?.jwt === jwt) this.cache.delete(key);
  }
}

/** Per team and key id, and the key itself, so a certificate given a new key does not keep the old key's token. */
const keyOf = (c: Pick<ApnsConfig, 'keyId' | 'teamId' | 'privateKey'>): string => {
  // every request asks; hashing the key once per config object (one per send) is enough
  let k = keysOf.get(c);
  if (k === undefined) keysOf.set(c, (k = `${c.teamId} ${c.keyId} ${crypto.createHash('sha256').update(c.privateKey).digest('hex')}`));
  return k;
};
const keysOf = new WeakMap<object, string>();

// ---- HTTP/2 sessions (§1.1) ----

/**
 * The pool to this certificate's APNs host for its team and key. APNs takes provider tokens of one
 * developer account and key per connection: a token of another on the same connection is answered
 * 403 InvalidProviderToken or 429 TooManyProviderTokenUpdates, and the connection is spoilt (Apple,
 * "Establishing a token-based connection to APNs"; Apple Developer Forums threads 702056, 72999),
 * so certificates share connections only when they share a key. With token auth a session carries
 * one stream until a request with a valid token went through (any answer but 403 shows it did);
 * IdleTimeout (§1.6) ends a session.
 */
function poolFor(c: ApnsConfig): Http2Pool {
  return http2Pool(
    'apns',
    c.baseUrl ?? (c.production ? HOSTS.production : HOSTS.sandbox),
    c.caCertificate,
    {
      maxSessions: MAX_SESSIONS,
      maxStreams: MAX_STREAMS,
      provenBy: (r) => r.status !== 403,
      retireAfter: (r) => r.status === 400 && errorOf(r).reason === 'IdleTimeout',
    },
    keyOf(c),
  );
}

// ---- requests ----

/** A notification ready to post: its headers and JSON body, or why it cannot be sent. */
type Built = { headers: Record<string, string>; body: string } | { failed: { code: number; info: string } };

/** The TaskId when it fits apns-collapse-id's 64 bytes (§1.3), else its SHA-256 in hex (64 characters). */
export function collapseIdOf(taskId: string): string {
  return Buffer.byteLength(taskId) <= MAX_COLLAPSE_ID ? taskId : crypto.createHash('sha256').update(taskId).digest('hex');
}

/**
 * The badge: the device's unread count (`VendorTarget.badge`, a chat push's) wins; then BadgeSetNum
 * wins over BadgeAddNum (reference §3.2). An "add" is BadgeAddNum, or 1 when
 * ApnsInfo.BadgeMode is 0 ("count"); BadgeMode 1 or absent (the batch and all-users default,
 * §3.4) counts nothing. APNs only sets absolute numbers and Herald does not know a device's current
 * count, so an add sends no `badge`: the increment goes beside `aps` as `badgeAdd`, with
 * mutable-content, for the app's notification service extension to add to the count it keeps.
 */
function badgeOf(info: OfflinePushInfo, a: ApnsOptions, targetBadge: number | undefined): { set?: number; add?: number } {
  if (typeof targetBadge === 'number') return { set: targetBadge };
  if (typeof info.BadgeSetNum === 'number') return { set: info.BadgeSetNum };
  const add = info.BadgeAddNum ?? (a.BadgeMode === 0 ? 1 : 0);
  return add > 0 ? { add } : {};
}

/**
 * How a request is sent: `alert`; `voip`, a PushKit push to the VoIP token; `recall`, a recall's
 * overwrite, always a visible alert; `cancel`, a recalled call on the VoIP token: CallKit can end
 * a ringing call only on a VoIP push, so it carries the call with `cancelled: true` and no alert.
 */
type Mode = 'alert' | 'voip' | 'recall' | 'cancel';

/**
 * The request for one device language and badge (§1.3, §1.4). Custom keys beside `aps` (primitive
 * values, §1.4) carry Herald's payload: the TaskId, Ext, and a chat push's conversation or a
 * call's invitation (push-data.ts), which CallKit reads from a VoIP push. A chat push's
 * notifications are grouped by `thread-id`; a call without a VoIP token rings as a time-sensitive
 * alert (§1.4 interruption-level) unless ApnsInfo names a level.
 */
function build(c: ApnsConfig, message: VendorMessage, t: VendorTarget, mode: Mode): Built {
  const m = message.render(t.locale);
  const a: ApnsOptions = m.info.ApnsInfo ?? {};
  const silent = mode === 'alert' && a.ContentAvailable === 1;
  const aps: Record<string, unknown> = {};
  const custom: Record<string, unknown> = heraldPayload(message.taskId, m);
  let title = '';
  let body = '';
  if (silent) {
    // a background push carries content-available alone: no alert, sound or badge (§1.4)
    aps['content-available'] = 1;
  } else if (mode === 'cancel') {
    custom.cancelled = true;
  } else {
    // ApnsInfo.Title replaces the push's Title (reference §3.4), not a title in the device's language
    title = a.Title !== undefined && m.title === (m.info.Title ?? '') ? a.Title : m.title;
    body = m.desc;
    if (mode === 'recall' && !title && !body) body = WITHDRAWN;
    const badge = badgeOf(m.info, a, t.badge);
    if (badge.set !== undefined) aps.badge = badge.set;
    if (badge.add !== undefined) custom.badgeAdd = badge.add;
    if (a.Sound) aps.sound = a.Sound;
    if (a.InterruptionLevel) aps['interruption-level'] = a.InterruptionLevel;
    else if (m.call && mode === 'alert') aps['interruption-level'] = 'time-sensitive';
    if (m.chat) aps['thread-id'] = conversationKey(m.chat);
    // an image is fetched by the app's notification service extension: APNs has no image key (§1.4)
    if (a.Image) custom.image = a.Image;
    if (a.MutableContent === 1 || a.Image || badge.add !== undefined) aps['mutable-content'] = 1;
  }
  const alert = (text: string): Record<string, unknown> => ({ ...(title ? { title } : {}), ...(a.SubTitle && !silent ? { subtitle: a.SubTitle } : {}), body: text });
  const bare = silent || mode === 'cancel';
  const json = (text: string) => JSON.stringify({ aps: bare ? aps : { alert: alert(text), ...aps }, ...custom });
  const voip = mode === 'voip' || mode === 'cancel';
  const limit = voip ? MAX_VOIP_PAYLOAD : MAX_PAYLOAD;
  // Too big: the body text is cut, Tencent's way (limit − 3 UTF-16 units plus "...", reference
  // §2.8), to the longest length that fits; title, Ext and the keys are kept as given.
  const payload = fitText(body, limit, json);
  if (payload === null) return { failed: { code: 413, info: `PayloadTooLarge: ${Buffer.byteLength(json(''))} bytes, over APNs' ${limit} even without the body text; shorten Title or Ext` } };
  const topic = voip ? (c.voipTopic ?? `${c.bundleId}.voip`) : c.bundleId;
  const headers: Record<string, string> = {
    'apns-topic': topic,
    'apns-push-type': voip ? 'voip' : silent ? 'background' : 'alert',
    // 10 must alert; content-available alone must go at 5 (§1.3)
    'apns-priority': silent ? '5' : '10',
    'apns-expiration': String(Math.max(0, Math.floor(message.expiresAt / 1000))),
    // the same collapse id replaces the shown notification: what a recall relies on (§1.7)
    'apns-collapse-id': collapseIdOf(message.taskId),
  };
  return { headers, body: payload };
}

/** An error answer's `{reason, timestamp}` (§1.6); empty when the body is not that. */
function errorOf(r: Http2Reply): { reason: string; timestamp?: number } {
  try {
    const b = JSON.parse(r.body) as { reason?: unknown; timestamp?: unknown };
    return { reason: typeof b.reason === 'string' ? b.reason : '', ...(typeof b.timestamp === 'number' && Math.abs(b.timestamp) < 8.64e15 ? { timestamp: b.timestamp } : {}) };
  } catch {
    return { reason: '' };
  }
}

const tokens = new ProviderTokens();

/** Reasons of a 403 or 400 that mean the certificate or its settings are wrong, whatever the device (§1.6). */
const CERTIFICATE_WRONG = new Set(['InvalidProviderToken', 'MissingProviderToken', 'BadCertificate', 'BadCertificateEnvironment', 'Forbidden', 'TopicDisallowed', 'BadTopic', 'MissingTopic']);

/**
 * Classifies APNs' answer (§1.6; Apple, "Handling notification responses from APNs"). 410 means
 * the token is gone. `BadDeviceToken` is also what a token of the other environment gets (a
 * sandbox token sent to production, or a certificate with the wrong `production`), and
 * `DeviceTokenNotForTopic` what every token gets from a certificate with the wrong bundle id: only a
 * certificate that has had a send accepted reads them as dead tokens; before that the token is
 * kept. A refusal of the provider token or the topic stops the certificate.
 */
function answer(c: ApnsConfig, jwt: string, r: Http2Reply, registrationId: string, voip: boolean, proven: boolean): Answer<VendorResult> {
  if (r.status === 200) return { done: { registrationId, outcome: 'sent' } };
  const e = errorOf(r);
  const reason = e.reason || `HTTP ${r.status}`;
  const failed = (info: string): Answer<VendorResult> => ({ done: { registrationId, outcome: 'failed', code: r.status, info } });
  const tokenProblem = r.status === 400 && (reason === 'BadDeviceToken' || reason === 'DeviceTokenNotForTopic');
  if (r.status === 410 || (tokenProblem && proven)) {
    const info = `${voip ? 'VoIP token ' : ''}${reason}${e.timestamp !== undefined ? ` (invalid since ${new Date(e.timestamp).toISOString()})` : ''}`;
    return { done: { registrationId, outcome: 'dead', code: r.status, info, ...(voip ? { voip: true } : {}) } };
  }
  if (tokenProblem) return failed(`${reason}; the token is kept: no send through this certificate has been accepted yet, so check its production flag and bundleId`);
  if (r.status === 403 && reason === 'ExpiredProviderToken') return { auth: `403 ${reason}` };
  if (CERTIFICATE_WRONG.has(reason) || r.status === 403) {
    tokens.forget(c, jwt);
    return { done: { registrationId, outcome: 'certificate', code: r.status, info: `${reason}: check the certificate's keyId, teamId, privateKey, bundleId and production` } };
  }
  if (r.status === 429 && reason === 'TooManyProviderTokenUpdates') return failed(reason);
  if ((r.status === 400 && reason === 'IdleTimeout') || r.status === 429 || r.status === 500 || r.status === 503) {
    return { later: `${r.status} ${reason}`, retryAfter: typeof r.headers['retry-after'] === 'string' ? r.headers['retry-after'] : null };
  }
  return failed(reason);
}

type Exchange = Http2Pool['exchange'];

/** Caps of certificates that set maxStreams, per key, bundle and cap. */
const streamCaps = new Map<string, Semaphore>();

/**
 * How this certificate's requests reach APNs: straight to the pool, or, with `maxStreams`, through
 * a cap on its streams in flight (the certificate's `limits.concurrency` counts adapter calls, and
 * one call sends all its devices at once).
 */
function exchangeFor(c: ApnsConfig, pool: Http2Pool): Exchange {
  const max = c.maxStreams;
  if (!max) return (path, headers, body) => pool.exchange(path, headers, body);
  const key = `${keyOf(c)} ${c.bundleId} ${c.baseUrl ?? c.production} ${max}`;
  let cap = streamCaps.get(key);
  if (!cap) streamCaps.set(key, (cap = new Semaphore(max)));
  const held = cap;
  return (path, headers, body) => held.run(() => pool.exchange(path, headers, body));
}

async function post(c: ApnsConfig, exchange: Exchange, token: string, built: Extract<Built, { body: string }>, registrationId: string, voip: boolean, proven: boolean): Promise<VendorResult> {
  let jwt = '';
  return withRetries<VendorResult>(
    async (fresh) => {
      jwt = tokens.get(c, fresh ? jwt : undefined);
      const r = await exchange(`/3/device/${encodeURIComponent(token)}`, { ...built.headers, authorization: `bearer ${jwt}` }, built.body);
      return answer(c, jwt, r, registrationId, voip, proven);
    },
    (info, code) => ({ registrationId, outcome: 'failed', code, info }),
  );
}

/** Sends to every target at once; the pool holds each request until its session has a free stream. */
async function sendAll(config: Record<string, unknown>, message: VendorMessage, targets: readonly VendorTarget[], recall: boolean, proven: boolean): Promise<VendorResult[]> {
  const c = config as unknown as ApnsConfig;
  try {
    tokens.get(c);
  } catch (err) {
    // a key that cannot sign: no request could succeed
    return targets.map((t) => ({ registrationId: t.registrationId, outcome: 'certificate', code: 0, info: `APNs privateKey cannot sign ES256: ${(err as Error).message}` }));
  }
  const exchange = exchangeFor(c, poolFor(c));
  const cache = new Map<string, Built>();
  const first = message.render(null);
  const isCall = first.call !== undefined;
  // a call, and IsVoipPush, go to the PushKit token; without one they fall back to a normal alert
  // (reference §3.4); a recall goes there only to cancel a call
  const toVoip = recall ? isCall : isCall || first.info.ApnsInfo?.IsVoipPush === 1;
  return Promise.all(
    targets.map((t) => {
      const voip = toVoip && !!t.voipToken;
      const token = voip ? t.voipToken! : t.token;
      if (!token) return { registrationId: t.registrationId, outcome: 'failed', code: LossReason.noToken.code, info: 'the device registered only a VoIP token, and this is not a VoIP push' };
      const mode: Mode = recall ? (voip ? 'cancel' : 'recall') : voip ? 'voip' : 'alert';
      const key = `${mode} ${message.variant(t.locale)} ${t.badge ?? ''}`;
      let built = cache.get(key);
      if (!built) {
        built = build(c, message, t, mode);
        cache.set(key, built);
      }
      if ('failed' in built) return { registrationId: t.registrationId, outcome: 'failed', ...built.failed };
      return post(c, exchange, token, built, t.registrationId, voip, proven);
    }),
  ) as Promise<VendorResult[]>;
}

/** A device token no device has (32 zero bytes): what the certificate check is addressed to. */
const NO_DEVICE = '0'.repeat(64);

/**
 * APNs documents no call that tries a provider key without a device to notify. The check posts an
 * empty payload (which APNs refuses, 400 PayloadEmpty, §1.6) to a token no device has, so no one
 * can be notified: APNs checks the provider token of every request, so a 403 (or a topic reason)
 * means the key or bundleId is refused, and any other answer that the JWT was taken. Whether
 * `production` is right shows only with a real device's token (BadDeviceToken, §1.6).
 */
async function check(config: Record<string, unknown>): Promise<CertificateCheck> {
  const c = config as unknown as ApnsConfig;
  let jwt: string;
  try {
    jwt = tokens.get(c);
  } catch (err) {
    return { ok: false, code: 0, info: `APNs privateKey cannot sign ES256: ${(err as Error).message}` };
  }
  const pool = poolFor(c);
  const host = c.baseUrl ?? (c.production ? HOSTS.production : HOSTS.sandbox);
  return withRetries<CertificateCheck>(
    async (fresh) => {
      if (fresh) jwt = tokens.get(c, jwt);
      const r = await pool.exchange(`/3/device/${NO_DEVICE}`, { 'apns-topic': c.bundleId, 'apns-push-type': 'alert', 'apns-priority': '10', authorization: `bearer ${jwt}` }, '');
      const reason = errorOf(r).reason || `HTTP ${r.status}`;
      if (r.status === 403 && reason === 'ExpiredProviderToken') return { auth: `403 ${reason}` };
      if (r.status === 403 || CERTIFICATE_WRONG.has(reason)) {
        tokens.forget(c, jwt);
        return { done: { ok: false, code: r.status, info: `${reason}: APNs refused the certificate; check its keyId, teamId, privateKey (not revoked) and bundleId` } };
      }
      if (r.status === 429 || r.status >= 500 || reason === 'IdleTimeout') return { later: `${r.status} ${reason}`, retryAfter: typeof r.headers['retry-after'] === 'string' ? r.headers['retry-after'] : null };
      return { done: { ok: true, info: `APNs (${host}) took the provider token of key ${c.keyId}, team ${c.teamId}, for ${c.bundleId} (a request to no device, answered ${r.status} ${reason}); whether production is right shows only with a device's token` } };
    },
    (info, code) => ({ ok: false, code, info: `APNs did not answer: ${info}` }),
  );
}

/**
 * Apple Push Notification service, HTTP/2 provider API with token (JWT) auth: one request per
 * device over pooled, multiplexed sessions, one pool per team and key.
 */
export const apnsAdapter: VendorAdapter = {
  send: (config, message, targets, ctx) => sendAll(config, message, targets, false, ctx.certificateProven === true),
  check,
  /**
   * APNs has no API to delete a notification (§1.7): a recall posts the replacement (or a neutral
   * "withdrawn" text) with the same apns-collapse-id, which replaces the one shown on the device.
   * A recalled call goes to a device's VoIP token as a cancel (see `Mode`).
   */
  async recall(config, { message, targets }) {
    // a recall goes only to devices that were sent the push, so the certificate has worked
    await sendAll(config, message, targets, true, true);
  },
};
