import crypto from 'node:crypto';
import type { CertificateCheck, VendorAdapter, VendorMessage, VendorTarget } from '../vendor.js';
import { AccessTokens } from '../net/access-tokens.js';
import { fitText } from './truncate.js';
import { HUAWEI_MAX_TOKENS, HUAWEI_PUSH_HOST, huaweiReceipts, retried, sendByLanguage, ttlOf } from './huawei.js';
import { FIX_JWT, harmonyAnswer } from './harmony-answer.js';
import { CredentialsRefused, stopOnRefusal } from './refused-credentials.js';
import { notifyIdOf } from './china-vendors.js';
import { badge99, heraldPayload } from './push-data.js';
import { httpPost } from '../net/http-post.js';

/** The JWT audience HarmonyOS checks (vendor-protocols.md §4.2). */
const JWT_AUD = 'https://oauth-login.cloud.huawei.com/oauth2/v3/token';
/** Recommended JWT lifetime, reusable within it (§4.2); over a day is refused (80300036). */
const JWT_LIFETIME = 3600;
/** The request body without tokens may not exceed 4,096 bytes (§4.4). */
const BODY_BYTES = 4096;
/** push-type 0: an alert (notification) message (§4.1). */
const PUSH_TYPE_ALERT = '0';
/**
 * AlertPayload categories (§4.3). `category` is mandatory on a notification (HarmonyOS reference
 * push-scenariozed-api-request-param, Notification): a HarmonyInfo.Category outside this list is
 * not sent, and a push without one goes as MARKETING, the class HarmonyOS gives every notification
 * of an app without self-classification rights (guide push-send-alert, 开通权益).
 */
const DEFAULT_CATEGORY = 'MARKETING';
const CATEGORIES = new Set(['IM', 'VOIP', 'MISS_CALL', 'SUBSCRIPTION', 'TRAVEL', 'HEALTH', 'WORK', 'ACCOUNT', 'EXPRESS', 'FINANCE', 'DEVICE_REMINDER', 'MAIL', 'PLAY_VOICE', 'MARKETING']);

interface HarmonyConfig {
  projectId: string;
  /** The app's client id: only the revoke API needs it, as it takes v1 and clientId (§4.4). */
  clientId?: string;
  serviceAccount: { key_id: string; private_key: string; sub_account?: string; iss?: string; sub?: string };
  baseUrl?: string;
}

const jwts = new AccessTokens();

/**
 * The service-account JWT (§4.2): PS256 over `{kid, typ, alg}` and `{aud, iss: sub_account, iat,
 * exp}`; the JWT itself is the bearer token, so it is cached for its hour (less a minute) like an
 * access token, and signed again when HarmonyOS refuses it.
 */
function jwt(c: HarmonyConfig, fresh: boolean): Promise<string> {
  const sa = c.serviceAccount;
  const iss = sa.sub_account ?? sa.iss ?? sa.sub ?? '';
  return jwts.get(`${sa.key_id} ${iss}`, fresh, async () => {
    const iat = Math.floor(Date.now() / 1000);
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${enc({ kid: sa.key_id, typ: 'JWT', alg: 'PS256' })}.${enc({ aud: JWT_AUD, iss, iat, exp: iat + JWT_LIFETIME })}`;
    let sig: Buffer;
    try {
      sig = crypto.sign('sha256', Buffer.from(unsigned), { key: sa.private_key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    } catch (err) {
      throw new CredentialsRefused(0, `the service account's private_key cannot sign (${(err as Error).message})`);
    }
    return { token: `${unsigned}.${sig.toString('base64url')}`, expiresIn: JWT_LIFETIME };
  });
}

/**
 * An alert payload (push-type 0, §4.3) for devices that share a language. HarmonyInfo.Title stands
 * in for the default Title (a MultiLanguageContent title picked for the device wins); Category,
 * Image, Sound and SoundDuration map to their AlertPayload fields; the badge adds or sets (the
 * device's unread count, then BadgeSetNum, then BadgeAddNum, 0–99 for Harmony); tapping opens the
 * app's home page with Herald's payload as data. A chat push goes as category IM, a call as VOIP
 * (AlertPayload categories, §4.3) unless HarmonyInfo.Category names one, and any other push as
 * MARKETING: the VoIP-call push type 10 needs a VoIPCallPayload the reference does not describe.
 * The AlertPayload has no group field, so a chat push is not grouped. The reference gives no HarmonyOS title or text limits, only the
 * 4,096-byte body: the text is shortened until the body fits.
 */
function requestFor(message: VendorMessage, first: VendorTarget, tokenList: string[]): Record<string, unknown> {
  const m = message.render(first.locale);
  const h = (m.info.HarmonyInfo ?? {}) as Record<string, unknown>;
  const notification: Record<string, unknown> = {
    title: !m.lang && typeof h.Title === 'string' && h.Title ? h.Title : m.title,
    body: m.desc,
    clickAction: { actionType: 0, data: heraldPayload(message.taskId, m) },
    notifyId: notifyIdOf(message.taskId),
  };
  if (typeof h.Category === 'string' && CATEGORIES.has(h.Category)) notification.category = h.Category;
  else if (m.call) notification.category = 'VOIP';
  else if (m.chat) notification.category = 'IM';
  else notification.category = DEFAULT_CATEGORY;
  if (typeof h.Image === 'string' && h.Image) notification.image = h.Image;
  if (typeof h.Sound === 'string' && h.Sound) notification.sound = h.Sound;
  if (typeof h.SoundDuration === 'number') notification.soundDuration = h.SoundDuration;
  const badge = badge99(m, first.badge);
  if (badge) notification.badge = 'set' in badge ? { setNum: badge.set } : { addNum: badge.add };
  const request = { payload: { notification }, pushOptions: { ttl: ttlOf(message), biTag: message.taskId }, target: { token: [] as string[] } };
  // the limit excludes the tokens (§0)
  const fitted = fitText(m.desc, BODY_BYTES, (body) => JSON.stringify({ ...request, payload: { notification: { ...notification, body } } }));
  if (fitted !== null) notification.body = (JSON.parse(fitted) as { payload: { notification: { body: string } } }).payload.notification.body;
  request.target.token = tokenList;
  return request;
}

const sendUrl = (c: HarmonyConfig) => `${c.baseUrl ?? HUAWEI_PUSH_HOST}/v3/${encodeURIComponent(c.projectId)}/messages:send`;

const post = async (url: string, c: HarmonyConfig, fresh: boolean, body: string) =>
  httpPost(url, { authorization: `Bearer ${await jwt(c, fresh)}`, 'push-type': PUSH_TYPE_ALERT, 'content-type': 'application/json' }, body);

/**
 * HarmonyOS Push Kit (NEXT/5+) scenario-based messages, v3 (§4): alert messages only — Tencent's
 * HarmonyInfo has no field that asks for a background (6) push, and a VoIP-call (10) push needs a
 * payload the reference does not describe (a call goes as an alert of category VOIP). Devices are
 * batched by language and badge, up to 1,000 tokens a request; answers are read by their v3 codes
 * and, for refused tokens, by each token's reason (harmony-answer.ts).
 */
export const harmonyAdapter: VendorAdapter = {
  send(config, message, targets, ctx) {
    const c = config as unknown as HarmonyConfig;
    const how = (fresh: boolean) => ({ fresh, proven: ctx.certificateProven === true });
    return sendByLanguage(message, targets, HUAWEI_MAX_TOKENS, (part) => {
      const body = JSON.stringify(requestFor(message, part[0]!, part.map((t) => t.token)));
      return stopOnRefusal(part, FIX_JWT, async (fresh) => harmonyAnswer(await post(sendUrl(c), c, fresh, body), part, how(fresh)));
    });
  },
  /**
   * HarmonyOS withdraws a notification not yet tapped: `POST /v1/{clientId}/messages:revoke` with the
   * original notifyId and up to 1,000 tokens (§4.4). Without a clientId in the certificate there is
   * nothing to call.
   */
  async recall(config, { message, targets }) {
    const c = config as unknown as HarmonyConfig;
    if (!c.clientId) return;
    const url = `${c.baseUrl ?? HUAWEI_PUSH_HOST}/v1/${encodeURIComponent(c.clientId)}/messages:revoke`;
    const notifyId = notifyIdOf(message.taskId);
    for (let i = 0; i < targets.length; i += HUAWEI_MAX_TOKENS) {
      const part = targets.slice(i, i + HUAWEI_MAX_TOKENS);
      const body = JSON.stringify({ notifyId, token: part.map((t) => t.token) });
      await retried(part, stopOnRefusal(part, FIX_JWT, async (fresh) => harmonyAnswer(await post(url, c, fresh, body), part, { fresh, proven: false })));
    }
  },
  recallWithdraws: true,
  /** HarmonyOS posts version-2 receipts to the address set in AppGallery Connect (not per message). */
  receipts: huaweiReceipts,
  check: checkCertificate,
};

/**
 * Stands for no device: Push Kit tokens are opaque base64-like strings, and this one cannot be one
 * (spaces), so the check's alert can reach no one.
 */
const CHECK_TOKEN = 'herald certificate check: not a device token';

/**
 * The JWT is self-signed, so only HarmonyOS can say whether it is taken: a freshly signed one
 * carries an alert to a token that cannot be a device's. Taken (sent, or the token refused as
 * malformed) is `ok`; a refused JWT, a project without Push Kit, a penalty or an app-wide reason is
 * the verdict; anything else (the vendor unreachable or busy, another code) gives none.
 */
async function checkCertificate(config: Record<string, unknown>): Promise<CertificateCheck> {
  const c = config as unknown as HarmonyConfig;
  const probe: VendorTarget = { registrationId: 'check', token: CHECK_TOKEN, locale: null };
  const body = JSON.stringify({ payload: { notification: { category: DEFAULT_CATEGORY, title: 'Herald', body: 'certificate check', clickAction: { actionType: 0 } } }, target: { token: [CHECK_TOKEN] } });
  const [r] = await retried([probe], stopOnRefusal([probe], FIX_JWT, async () => harmonyAnswer(await post(sendUrl(c), c, true, body), [probe], { fresh: true, proven: false })));
  if (!r) return { ok: false, code: 0, info: 'no answer' };
  if (r.outcome === 'sent' || r.outcome === 'dead') return { ok: true, info: `HarmonyOS took the service account's JWT for project ${c.projectId}` };
  if (r.outcome === 'certificate') return { ok: false, code: r.code, info: r.info };
  return { ok: false, code: r.code, info: `no verdict: ${r.info}` };
}
