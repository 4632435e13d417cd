import { z } from 'zod';
import { resultForAll, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { truncateUtf16 } from './truncate.js';
import type { Answer } from '../net/retry.js';
import { AccessTokens } from '../net/access-tokens.js';
import { clientCredentialsToken, refusedAuth, stopOnRefusal, tokenCheck } from './refused-credentials.js';
import { sendByLanguage, ttlOf } from './huawei.js';
import { androidBadge, notifyIdOf } from './china-vendors.js';
import { heraldPayload } from './push-data.js';
import { httpPost, type VendorResponse } from '../net/http-post.js';

/**
 * Honor's token endpoint, as its downlink-message reference (developer.honor.com/cn/docs/11002/
 * reference/downlink-message, 获取鉴权接口) names it. An older Honor guide (2023) used a Keycloak
 * path, iam.developer.hihonor.com/auth/realms/developer/protocol/openid-connect/token; a
 * certificate's `tokenUrl` can still point there.
 */
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
  return tokens.get(`${url} ${c.clientId}`, fresh, () => clientCredentialsToken(url, c.clientId, c.clientSecret, 'Honor'));
}

/** What to check when Honor refuses the certificate's credentials. */
const FIX_CREDENTIALS = "check the certificate's clientId and clientSecret, and that appId is the app they belong to (Honor developer site › the app › push service)";

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

/** Honor's answer `{code, message, data: {sendResult, requestId, failTokens, expireTokens}}` (§5). */
const HonorBody = z.object({
  code: z.union([z.number(), z.string()]),
  message: z.string().nullish(),
  data: z.object({ sendResult: z.boolean().nullish(), failTokens: z.array(z.string()).nullish(), expireTokens: z.array(z.string()).nullish() }).nullish(),
});

/**
 * Reads Honor's answer. Its body `code` decides, not the HTTP status alone: 200 is success, and
 * Honor answers a refused request with another code in an HTTP 200 (vendor-protocols.md,
 * corrections). A success sends to every token except `expireTokens` (dead: Honor says the token
 * expired) and `failTokens` (failed, token kept); with `sendResult` false the tokens it names
 * neither are failed too; an HTTP 200 that is not Honor's answer is a failure. HTTP 401 renews the access token once, then stops the certificate; 429
 * and 5xx are retried honouring Retry-After; any other code fails every device with it, tokens
 * kept. Honor's code table was not found (§12), so no code is read as a dead token, a stop or a
 * quota.
 */
async function honorAnswer(res: VendorResponse, part: readonly VendorTarget[], fresh: boolean): Promise<Answer<VendorResult[]>> {
  const parsed = HonorBody.safeParse(await res.json().catch(() => null));
  const r = parsed.success ? parsed.data : undefined;
  const code = Number(r?.code ?? res.status);
  const info = `${code} ${r?.message ?? res.statusText}`.trim();
  if (res.status === 401) return refusedAuth(part, fresh, 401, info, FIX_CREDENTIALS);
  if (res.status === 429 || res.status >= 500) return { later: info, retryAfter: res.headers.get('retry-after') };
  if (res.ok && r && code === 200) {
    const expired = new Set(r?.data?.expireTokens ?? []);
    const failed = new Set(r?.data?.failTokens ?? []);
    const taken = r?.data?.sendResult !== false;
    return {
      done: part.map((t): VendorResult => {
        if (expired.has(t.token)) return { registrationId: t.registrationId, outcome: 'dead', code, info: 'expired token' };
        if (failed.has(t.token) || !taken) return { registrationId: t.registrationId, outcome: 'failed', code, info: failed.has(t.token) ? 'failed token' : 'sendResult false' };
        return { registrationId: t.registrationId, outcome: 'sent' };
      }),
    };
  }
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
  /**
   * The OAuth token is asked for afresh: Honor issuing it proves the client id and secret (§5). The
   * appId is only in the send path, which has no harmless call: the first send tests it.
   */
  check(config) {
    const c = config as unknown as HonorConfig;
    return tokenCheck(() => accessToken(c, true), `Honor issued an access token for client ${c.clientId} (the appId is tested by the first send)`, FIX_CREDENTIALS);
  },
};

function sendAll(c: HonorConfig, message: VendorMessage, targets: readonly VendorTarget[]): Promise<VendorResult[]> {
  const url = `${c.baseUrl ?? PUSH_HOST}/api/v1/${encodeURIComponent(c.appId)}/sendMessage`;
  return sendByLanguage(message, targets, MAX_TOKENS, (part) => {
    const body = JSON.stringify(bodyFor(c, message, part[0]!, part.map((t) => t.token)));
    return stopOnRefusal(part, FIX_CREDENTIALS, async (fresh) => {
      const headers = { authorization: `Bearer ${await accessToken(c, fresh)}`, timestamp: String(Date.now()), 'content-type': 'application/json' };
      return honorAnswer(await httpPost(url, headers, body), part, fresh);
    });
  });
}
