import crypto from 'node:crypto';
import { overwriteRecall, type CertificateCheck, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { withRetries, type Answer } from '../net/retry.js';
import { http2Pool, type Http2Reply } from '../net/http2-pool.js';
import { settleAmbiguous, tokenOrCertificate, type Classified } from './ambiguous.js';
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

/** Google's token endpoint refused the service account itself (deleted, disabled, another key): asking again cannot help. */
class GrantRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Refusals of service accounts, kept a few seconds: the devices of a batch all ask for the access
 * token at once, and one refusal answers them all rather than a token request each.
 */
const refusals = new Map<string, { err: GrantRefused; at: number }>();
const REFUSAL_KEPT_MS = 10_000;

/** The OAuth2 JWT bearer grant (vendor-protocols.md §2.2): an RS256 assertion with iss, scope, aud and a one-hour exp. */
async function grant(c: FcmConfig): Promise<{ token: string; expiresIn: number }> {
  const key = credentialOf(c);
  const refused = refusals.get(key);
  if (refused && Date.now() - refused.at < REFUSAL_KEPT_MS) throw refused.err;
  try {
    return await requestGrant(c);
  } catch (err) {
    if (err instanceof GrantRefused) {
      if (refusals.size > 1000) refusals.clear();
      refusals.set(key, { err, at: Date.now() });
    }
    throw err;
  }
}

function requestGrant(c: FcmConfig): Promise<{ token: string; expiresIn: number }> {
  const aud = tokenUrlOf(c);
  const iat = Math.floor(Date.now() / 1000);
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iss: c.serviceAccount.client_email, scope: SCOPE, aud, iat, exp: iat + 3600 })}`;
  let sig: string;
  try {
    sig = crypto.sign('sha256', Buffer.from(unsigned), c.serviceAccount.private_key).toString('base64url');
  } catch (err) {
    throw new GrantRefused(0, `the service account's private_key cannot sign RS256: ${(err as Error).message}`);
  }
  return tokenRequest(aud, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${unsigned}.${sig}` }, 'FCM', async (url, body) => {
    const r = await poolOf(url, c).exchange(new URL(url).pathname, { 'content-type': 'application/x-www-form-urlencoded' }, body);
    // RFC 6749 §5.2: a 4xx error (invalid_grant, invalid_client…) refuses the credentials; 429 and 5xx are worth another try
    if (r.status >= 400 && r.status < 500 && r.status !== 429) {
      const e = parseJson<{ error?: string; error_description?: string }>(r.body);
      throw new GrantRefused(r.status, `Google refused the service account ${c.serviceAccount.client_email}: ${r.status} ${[e.error, e.error_description].filter(Boolean).join(': ')}`.trim());
    }
    return { status: r.status, text: r.body };
  });
}

function parseJson<T extends object>(text: string): Partial<T> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Partial<T>) : {};
  } catch {
    return {};
  }
}

const tokenUrlOf = (c: FcmConfig) => c.tokenUrl ?? c.serviceAccount.token_uri ?? GOOGLE_TOKEN_URL;
/** Whose access token: the token endpoint and the service account. */
const credentialOf = (c: FcmConfig) => `${tokenUrlOf(c)} ${c.serviceAccount.client_email}`;

/** FCM's limit on a message's payload (vendor-protocols.md §2.5). */
const MAX_PAYLOAD = 4096;
/** FCM keeps a message at most 4 weeks: android.ttl is 0 to 2,419,200 s (Firebase, "Setting the lifespan of a message"). */
export const MAX_TTL_S = 2_419_200;

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

const sendUrl = (c: FcmConfig) => `${c.baseUrl ?? FCM_HOST}/v1/projects/${encodeURIComponent(c.serviceAccount.project_id)}/messages:send`;

/** One messages:send request with the service account's access token (a new one when `fresh`), or why there is none. */
async function post(c: FcmConfig, body: string, fresh: boolean): Promise<Http2Reply | GrantRefused> {
  let token: string;
  try {
    token = await tokens.get(credentialOf(c), fresh, () => grant(c));
  } catch (err) {
    if (err instanceof GrantRefused) return err;
    throw err;
  }
  const url = sendUrl(c);
  return poolOf(url, c).exchange(new URL(url).pathname, { authorization: `Bearer ${token}` }, body);
}

/** An FCM error answer (vendor-protocols.md §2.4): the FcmError's errorCode, the message, and the fields a BadRequest names. */
function errorOf(res: Http2Reply): { errorCode: string; message: string; fields: string[] } {
  type Detail = { '@type'?: string; errorCode?: string; fieldViolations?: { field?: string }[] };
  const e = parseJson<{ error: { message?: string; details?: Detail[] } }>(res.body).error;
  const details = Array.isArray(e?.details) ? e.details : [];
  return {
    errorCode: details.find((d) => typeof d.errorCode === 'string')?.errorCode ?? '',
    message: typeof e?.message === 'string' ? e.message : '',
    fields: details.flatMap((d) => (Array.isArray(d.fieldViolations) ? d.fieldViolations.map((v) => String(v.field ?? '')) : [])),
  };
}

/**
 * Classifies FCM's answer to one message (Firebase, "FCM error codes" and "Best practices for FCM
 * registration token management"):
 * - UNREGISTERED (404), and INVALID_ARGUMENT (400) that says the registration token is not valid:
 *   the token will never be valid again, and is cleared;
 * - 401 is a refused access token: a new one is asked for once; refused again, the service account is;
 * - SENDER_ID_MISMATCH (403) means the token belongs to another Firebase project, and a 404 without
 *   UNREGISTERED that the project was not found: from a certificate never taken (and no device of
 *   the call taken) the service account is of the wrong project, and the certificate stops; from a
 *   proven one it is this device's token, kept (it may be registered to the app's other FCM
 *   certificate: Firebase's guidance deletes tokens only on UNREGISTERED and INVALID_ARGUMENT);
 * - THIRD_PARTY_AUTH_ERROR: the APNs or Web Push credentials in the Firebase project are missing or
 *   wrong: the certificate stops, unless other devices of the call were taken;
 * - any other 403 (PERMISSION_DENIED: the service account may not send for the project): the
 *   certificate stops;
 * - 429 and 5xx: retried.
 */
function answer(res: Http2Reply | GrantRefused, registrationId: string, fresh: boolean, proven: boolean): Answer<Classified> {
  const certificate = (code: number, info: string): Answer<Classified> => ({ done: { result: { registrationId, outcome: 'certificate', code, info } } });
  if (res instanceof GrantRefused) return certificate(res.status, res.message);
  if (res.status === 200) return { done: { result: { registrationId, outcome: 'sent' } } };
  const e = errorOf(res);
  const info = `${e.errorCode || res.status} ${e.message}`.trim();
  const tokenInvalid = res.status === 400 && (e.fields.includes('message.token') || /registration token/i.test(e.message));
  if (e.errorCode === 'UNREGISTERED' || tokenInvalid) return { done: { result: { registrationId, outcome: 'dead', code: res.status, info } } };
  if (res.status === 401 && e.errorCode !== 'THIRD_PARTY_AUTH_ERROR') return fresh ? certificate(401, `${info}: FCM refused a new access token too; check the service account`) : { auth: info };
  if (e.errorCode === 'SENDER_ID_MISMATCH' || res.status === 404) return { done: tokenOrCertificate(registrationId, res.status, `${info}: the token is not of this service account's project; check the certificate's serviceAccount`, proven) };
  // about the Firebase project's APNs or Web Push credentials, whether or not this certificate has worked for other devices
  if (e.errorCode === 'THIRD_PARTY_AUTH_ERROR') return { done: tokenOrCertificate(registrationId, res.status, `${info}: the APNs or Web Push credentials in the Firebase project are missing or wrong`, false) };
  if (res.status === 403) return certificate(403, `${info}: check the service account's project_id and its permission to send`);
  const retryAfter = res.headers['retry-after'];
  if (res.status === 429 || res.status >= 500) return { later: `${res.status} ${info}`, retryAfter: typeof retryAfter === 'string' ? retryAfter : null };
  return { done: { result: { registrationId, outcome: 'failed', code: res.status, info } } };
}

async function sendOne(c: FcmConfig, body: string | null, registrationId: string, proven: boolean): Promise<Classified> {
  if (body === null) return { result: { registrationId, outcome: 'failed', code: 400, info: `payload over FCM's ${MAX_PAYLOAD} bytes even with the text cut; shorten Title or Ext` } };
  return withRetries<Classified>(
    async (fresh) => answer(await post(c, body, fresh), registrationId, fresh, proven),
    (info, code) => ({ result: { registrationId, outcome: 'failed', code, info } }),
  );
}

/** A topic no app subscribes to: the check's `validate_only` message is addressed to it. */
const CHECK_TOPIC = 'herald-certificate-check';

/**
 * The certificate check: Google issues an access token for the service account, and FCM takes a
 * `validate_only` message for its project, which is checked and not sent (Firebase, REST reference
 * "projects.messages.send"); it goes to a topic, as no device is needed.
 */
async function check(config: Record<string, unknown>): Promise<CertificateCheck> {
  const c = config as unknown as FcmConfig;
  const body = JSON.stringify({ validate_only: true, message: { topic: CHECK_TOPIC, notification: { title: 'certificate check' } } });
  const project = c.serviceAccount.project_id;
  return withRetries<CertificateCheck>(
    async (fresh) => {
      const res = await post(c, body, fresh);
      if (res instanceof GrantRefused) return { done: { ok: false, code: res.status, info: res.message } };
      if (res.status === 200) return { done: { ok: true, info: `Google issued an access token for ${c.serviceAccount.client_email}, and FCM took a validate_only message for project ${project} (nothing sent)` } };
      const e = errorOf(res);
      const info = `${e.errorCode || res.status} ${e.message}`.trim();
      if (res.status === 401 && !fresh) return { auth: info };
      if (res.status === 429 || res.status >= 500) return { later: `${res.status} ${info}` };
      const hint = res.status === 404 ? `project ${project} was not found; check project_id` : `check the service account's project_id (${project}) and its permission to send`;
      return { done: { ok: false, code: res.status, info: `${info}: ${hint}` } };
    },
    (info, code) => ({ ok: false, code, info: `FCM did not answer: ${info}` }),
  );
}

/** Firebase Cloud Messaging HTTP v1, one message per device, many in flight on pooled HTTP/2 connections. */
export const fcmAdapter: VendorAdapter = {
  // FCM has no recall (vendor-protocols.md §2.5): the replacement takes the same notification tag
  recall: (config, r) => overwriteRecall(fcmAdapter)(config, r),
  async send(config, message, targets, ctx): Promise<VendorResult[]> {
    const c = config as unknown as FcmConfig;
    // what is left of the push's life, within the 4 weeks FCM keeps a message
    const ttl = Math.min(MAX_TTL_S, Math.max(0, Math.floor((message.expiresAt - Date.now()) / 1000)));
    // every device at once: the HTTP/2 pool holds what exceeds the streams FCM allows
    return settleAmbiguous(await Promise.all(targets.map((t) => sendOne(c, messageFor(message, t, ttl), t.registrationId, ctx.certificateProven === true))));
  },
  check,
};
