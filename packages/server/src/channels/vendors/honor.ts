import { resultForAll, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { truncateUtf16 } from './truncate.js';
import type { Answer } from '../net/retry.js';
import { AccessTokens, tokenRequest } from '../net/access-tokens.js';
import { sendByLanguage, ttlOf } from './huawei.js';
import { androidBadge, notifyIdOf } from './china-vendors.js';
import { heraldPayload } from './push-data.js';
import { httpPost, type VendorResponse } from '../net/http-post.js';

const TOKEN_URL = 'https://iam.developer.honor.com/auth/token';
const PUSH_HOST = 'https://push-api.cloud.honor.com';
/** Tencent's HONOR title and text limits (reference §2.8). */
const TITLE_MAX = 50;
const BODY_MAX = 400;
/** The reference names no bound on tokens per Honor request (vendor-protocols.md §5): batches stay modest. */
const MAX_TOKENS = 100;

interface HonorConfig {
  appId: string;
  clientId: string;
  clientSecret: string;
  baseUrl?: string;
  tokenUrl?: string;
  badgeClass?: string;
}

/** OAuth 2.0 client-credentials tokens per client (§5). */
const tokens = new AccessTokens();

function accessToken(c: HonorConfig, fresh: boolean): Promise<string> {
  const url = c.tokenUrl ?? TOKEN_URL;
  return tokens.get(`${url} ${c.clientId}`, fresh, () => tokenRequest(url, { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }, 'Honor'));
}

/**
 * The sendMessage body (§5, camelCase) for devices that share a language: title and text cut to
 * Honor's limits, importance from HonorImportance, image from HonorImage, big text when PushStyle
 * is 1, a tap opens the app, `notifyId` from the TaskId so a later message with it overwrites the
 * notification, `biTag` the TaskId, the badge (the device's unread count first) when the
 * certificate names the `badgeClass`. §5 names no category, group or priority field, so
 * HuaWeiCategory is not sent, a chat push is not grouped, and a call is a notification of the
 * highest documented importance, NORMAL, with the call in `data`.
 */
function bodyFor(c: HonorConfig, message: VendorMessage, first: VendorTarget, tokenList: string[]): Record<string, unknown> {
  const m = message.render(first.locale);
  const a = (m.info.AndroidInfo ?? {}) as Record<string, unknown>;
  const notification: Record<string, unknown> = {
    title: truncateUtf16(m.title, TITLE_MAX),
    body: truncateUtf16(m.desc, BODY_MAX),
    clickAction: { type: 3 },
    notifyId: notifyIdOf(message.taskId),
  };
  if (a.HonorImportance === 'LOW' || a.HonorImportance === 'NORMAL') notification.importance = a.HonorImportance;
  else if (m.call) notification.importance = 'NORMAL';
  if (typeof a.HonorImage === 'string' && a.HonorImage) notification.image = a.HonorImage;
  if (a.PushStyle === 1) Object.assign(notification, { style: 1, bigTitle: notification.title, bigBody: notification.body });
  const badge = androidBadge(m, c.badgeClass, first.badge);
  if (badge) notification.badge = { ...('set' in badge ? { setNum: badge.set } : { addNum: badge.add }), badgeClass: c.badgeClass };
  return { token: tokenList, data: JSON.stringify(heraldPayload(message.taskId, m)), android: { ttl: `${ttlOf(message)}s`, biTag: message.taskId, targetUserType: 0, notification } };
}

/**
 * Reads Honor's answer `{code, message, data: {sendResult, requestId, failTokens, expireTokens}}`
 * (§5). Honor's code table and even its success code were not found (§12), so the answer is read
 * by HTTP status: an accepted request (2xx with `data`) sends to every token except `expireTokens`
 * (dead) and `failTokens` (failed, token kept); 401 renews the access token once; 429 and 5xx are
 * retried honouring Retry-After; anything else fails every device with Honor's `code`. No quota
 * code is known, so no pause is asked for.
 */
async function honorAnswer(res: VendorResponse, part: readonly VendorTarget[]): Promise<Answer<VendorResult[]>> {
  const r = (await res.json().catch(() => ({}))) as { code?: number; message?: string; data?: { failTokens?: string[]; expireTokens?: string[] } };
  const code = Number(r.code ?? res.status);
  const info = `${code} ${r.message ?? res.statusText}`.trim();
  if (res.ok && r.data) {
    const expired = new Set(r.data.expireTokens ?? []);
    const failed = new Set(r.data.failTokens ?? []);
    return {
      done: part.map((t): VendorResult => {
        if (expired.has(t.token)) return { registrationId: t.registrationId, outcome: 'dead', code, info: 'expired token' };
        if (failed.has(t.token)) return { registrationId: t.registrationId, outcome: 'failed', code, info: 'failed token' };
        return { registrationId: t.registrationId, outcome: 'sent' };
      }),
    };
  }
  if (res.status === 401) return { auth: info };
  if (res.status === 429 || res.status >= 500) return { later: info, retryAfter: res.headers.get('retry-after') };
  return { done: resultForAll(part, { outcome: 'failed', code, info }) };
}

/**
 * Honor Push `sendMessage` (§5): devices batched by language. Recall: Honor has no revoke API
 * (not found, §5), and Tencent's overwrite of an Honor notification (reference §2.3) is the same
 * `notifyId` with the replacement text. Receipts: their format was not found in the reference, so
 * Honor's are not read.
 */
export const honorAdapter: VendorAdapter = {
  send(config, message, targets) {
    return sendAll(config as unknown as HonorConfig, message, targets);
  },
  async recall(config, { message, targets }) {
    await sendAll(config as unknown as HonorConfig, message, targets);
  },
};

function sendAll(c: HonorConfig, message: VendorMessage, targets: readonly VendorTarget[]): Promise<VendorResult[]> {
  const url = `${c.baseUrl ?? PUSH_HOST}/api/v1/${encodeURIComponent(c.appId)}/sendMessage`;
  return sendByLanguage(message, targets, MAX_TOKENS, (part) => {
    const body = JSON.stringify(bodyFor(c, message, part[0]!, part.map((t) => t.token)));
    return async (fresh) => {
      const headers = { authorization: `Bearer ${await accessToken(c, fresh)}`, timestamp: String(Date.now()), 'content-type': 'application/json' };
      return honorAnswer(await httpPost(url, headers, body), part);
    };
  });
}
