import { z } from 'zod';
import { batchesByLanguage, resultForAll, type ReceiptEvent, type SendContext, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { truncateUtf16 } from './truncate.js';
import { withRetries, type Answer } from '../net/retry.js';
import { AccessTokens } from '../net/access-tokens.js';
import { certificateRefused, clientCredentialsToken, refusedAuth, stopOnRefusal, tokenCheck } from './refused-credentials.js';
import { readPushKit } from './push-kit-answer.js';
import { androidBadge, notifyIdOf, ttlSeconds } from './china-vendors.js';
import { heraldPayload } from './push-data.js';
import { conversationKey } from '../../dispatch/message.js';
import { httpPost, type VendorResponse } from '../net/http-post.js';

const TOKEN_URL = 'https://oauth-login.cloud.huawei.com/oauth2/v3/token';
/** Push Kit's host, for HMS v1 and HarmonyOS v3 alike (vendor-protocols.md §3.1, §4.1). */
export const HUAWEI_PUSH_HOST = 'https://push-api.cloud.huawei.com';
/** Huawei and HarmonyOS take up to 1,000 tokens per request (§3.4, §4.4). */
export const HUAWEI_MAX_TOKENS = 1000;
/** Huawei's title and text limits, in Tencent's table (reference §2.8). */
const TITLE_MAX = 60;
const BODY_MAX = 600;
/** The longest TTL Huawei, HarmonyOS and Honor accept: 15 days (§3.2, §4.3, §5). */
export const MAX_TTL = 1_296_000;

interface HuaweiConfig {
  clientId: string;
  clientSecret: string;
  baseUrl?: string;
  tokenUrl?: string;
  badgeClass?: string;
}

/** Seconds left before the push expires, within the vendor's 15-day bound. */
export const ttlOf = (message: VendorMessage) => ttlSeconds(message.expiresAt, 0, MAX_TTL);

/** OAuth 2.0 client-credentials tokens per client (§3.1). */
const tokens = new AccessTokens();

function accessToken(c: HuaweiConfig, fresh: boolean): Promise<string> {
  const url = c.tokenUrl ?? TOKEN_URL;
  return tokens.get(`${url} ${c.clientId}`, fresh, () => clientCredentialsToken(url, c.clientId, c.clientSecret, 'Huawei'));
}

/** What to check when Huawei refuses the certificate's credentials. */
const FIX_CREDENTIALS = "check the certificate's clientId and clientSecret (AppGallery Connect › the app › App information)";

/**
 * One request's message for devices that share a language and badge (`first` stands for them):
 * Huawei sends one payload to many tokens. `biTag` names the push in Huawei's delivery receipts
 * (§3.2); a recall's overwrite carries none. A chat push is grouped by its conversation
 * (`notification.group`, §3.2) and goes as category IM; a call as category VOIP at HIGH urgency,
 * with the highest documented importance, NORMAL. IM and VOIP are self-classification marks the
 * app must have been granted, and urgency is documented for data messages (§3.2). The push's own
 * HuaWeiCategory and HuaWeiImportance win.
 */
function messageFor(c: HuaweiConfig, message: VendorMessage, first: VendorTarget, tokenList: string[], biTag: boolean): Record<string, unknown> {
  const m = message.render(first.locale);
  const a = (m.info.AndroidInfo ?? {}) as Record<string, unknown>;
  const title = truncateUtf16(m.title, TITLE_MAX);
  const body = truncateUtf16(m.desc, BODY_MAX);
  // the same tag and notify_id replace a shown notification (§3.2): what a recall relies on
  const notification: Record<string, unknown> = { title, body, click_action: { type: 3 }, tag: message.taskId.slice(-64), notify_id: notifyIdOf(message.taskId) };
  if (typeof a.HuaWeiChannelID === 'string' && a.HuaWeiChannelID) notification.channel_id = a.HuaWeiChannelID;
  if (a.HuaWeiImportance === 'LOW' || a.HuaWeiImportance === 'NORMAL') notification.importance = a.HuaWeiImportance;
  else if (m.call) notification.importance = 'NORMAL';
  if (m.chat) notification.group = conversationKey(m.chat);
  if (typeof a.HuaWeiImage === 'string' && a.HuaWeiImage) notification.image = a.HuaWeiImage;
  if (typeof a.Sound === 'string' && a.Sound) notification.sound = `/raw/${a.Sound}`;
  // PushStyle 1: big text (§3.2 style 1 with big_title and big_body)
  if (a.PushStyle === 1) Object.assign(notification, { style: 1, big_title: title, big_body: body });
  const badge = androidBadge(m, c.badgeClass, first.badge);
  if (badge) notification.badge = { ...('set' in badge ? { set_num: badge.set } : { add_num: badge.add }), class: c.badgeClass };
  const android: Record<string, unknown> = { ttl: `${ttlOf(message)}s`, notification };
  if (biTag) android.bi_tag = message.taskId;
  if (typeof a.HuaWeiCategory === 'string' && a.HuaWeiCategory) android.category = a.HuaWeiCategory;
  else if (m.call) android.category = 'VOIP';
  else if (m.chat) android.category = 'IM';
  if (m.call) android.urgency = 'HIGH';
  return { validate_only: false, message: { token: tokenList, data: JSON.stringify(heraldPayload(message.taskId, m)), android } };
}

/** One request with the shared retries (retry.ts); one that never succeeds fails every device of the part. */
export const retried = (part: readonly VendorTarget[], attempt: (fresh: boolean) => Promise<Answer<VendorResult[]>>) =>
  withRetries<VendorResult[]>(attempt, (info, code) => resultForAll(part, { outcome: 'failed', code, info }));

/**
 * One request per batch of at most `max` devices sharing a language and badge, for the vendors
 * (Huawei, Honor, HarmonyOS) that send one payload, badge included, to many tokens.
 */
export async function sendByLanguage(
  message: VendorMessage,
  targets: readonly VendorTarget[],
  max: number,
  request: (part: readonly VendorTarget[]) => (fresh: boolean) => Promise<Answer<VendorResult[]>>,
): Promise<VendorResult[]> {
  const out: VendorResult[] = [];
  for (const part of batchesByLanguage(message, targets, max, true)) out.push(...(await retried(part, request(part))));
  return out;
}

function sendAll(c: HuaweiConfig, message: VendorMessage, targets: readonly VendorTarget[], biTag: boolean, ctx: SendContext): Promise<VendorResult[]> {
  const url = `${c.baseUrl ?? HUAWEI_PUSH_HOST}/v1/${encodeURIComponent(c.clientId)}/messages:send`;
  return sendByLanguage(message, targets, HUAWEI_MAX_TOKENS, (part) => {
    const body = JSON.stringify(messageFor(c, message, part[0]!, part.map((t) => t.token), biTag));
    return stopOnRefusal(part, FIX_CREDENTIALS, async (fresh) => {
      const res = await httpPost(url, { authorization: `Bearer ${await accessToken(c, fresh)}`, 'content-type': 'application/json;charset=UTF-8' }, body);
      return huaweiAnswer(res, part, { fresh, proven: ctx.certificateProven === true });
    });
  });
}

/**
 * Huawei Push Kit v1: devices batched by language, up to 1,000 tokens a request. Receipts: Huawei
 * posts them to the address set in AppGallery Connect (not per message), which the operator sets
 * to Herald's receipt URL; the TaskId travels in `bi_tag`.
 */
export const huaweiAdapter: VendorAdapter = {
  send(config, message, targets, ctx) {
    return sendAll(config as unknown as HuaweiConfig, message, targets, true, ctx);
  },
  /** HMS v1 has no revoke endpoint (§12): the replacement text overwrites by the same notify_id and tag (§3.4). */
  async recall(config, { message, targets }) {
    await sendAll(config as unknown as HuaweiConfig, message, targets, false, {});
  },
  receipts: huaweiReceipts,
  /** The OAuth token is asked for afresh: Huawei issuing it proves the client id and secret (§3.1); no message is sent. */
  check(config) {
    const c = config as unknown as HuaweiConfig;
    return tokenCheck(() => accessToken(c, true), `Huawei issued an access token for client ${c.clientId}`, FIX_CREDENTIALS);
  },
};

/** 80100000's `msg` is a JSON string `{"success": 3, "failure": 1, "illegal_tokens": [...]}` (same page, code 80100000). */
const PartialMsg = z.object({ illegal_tokens: z.array(z.string()) });

/** What Huawei's answers say when they refuse the certificate (same page, result codes). */
const NO_PERMISSION = 'the app may not send messages: enable Push Kit for it in AppGallery Connect (also for devices outside the Chinese mainland) and check that clientId is its app id';
const ALL_INVALID =
  "every token was refused and this certificate has never had a send accepted: check that clientId is the app the devices' tokens belong to (AppGallery Connect app id and package name)";

/**
 * Reads Huawei Push Kit v1's answer (HMS Core server API, "Sending Messages", response codes):
 * - sent: 80000000; 80100000 sends all but its `illegal_tokens`, which are dead: the request was
 *   taken for the other tokens, so the certificate is right and those tokens are not the app's;
 * - certificate (stopped, tokens kept): 80300002 (the app may not push), 80600003 (OAuth client
 *   refused), an access token refused again once fresh (80200001, 80200003, 401), and 80300007 on
 *   a certificate that has never had a send accepted: its documented causes include another app's
 *   id or package, and the answer names no token;
 * - failed (token kept): 80300007 on a proven certificate (the cause cannot be told per token),
 *   and every other code (80100001/80100003 bad field, 80100016 sensitive text, 80300008 too big,
 *   80300011 no permission for this importance, …);
 * - retry later: 81000001 (internal error), 502, 503 (flow control) and other 5xx.
 */
function huaweiAnswer(res: VendorResponse, part: readonly VendorTarget[], how: { fresh: boolean; proven: boolean }): Promise<Answer<VendorResult[]>> {
  return readPushKit(res, part, how.fresh, FIX_CREDENTIALS, ({ raw, code, info }, all) => {
    switch (raw) {
      case '80100000': {
        let illegal = new Set<string>();
        try {
          const msg = PartialMsg.safeParse(JSON.parse(info));
          if (msg.success) illegal = new Set(msg.data.illegal_tokens);
        } catch {
          // an unreadable msg: count them all as sent rather than clear good tokens
        }
        return { done: part.map((t): VendorResult => (illegal.has(t.token) ? { registrationId: t.registrationId, outcome: 'dead', code, info: 'illegal token' } : { registrationId: t.registrationId, outcome: 'sent' })) };
      }
      case '80300007':
        return how.proven ? all({ outcome: 'failed', code, info: `${info} (no token named; tokens kept)` }) : { done: certificateRefused(part, code, info, ALL_INVALID) };
      case '80300002':
        return { done: certificateRefused(part, code, info, NO_PERMISSION) };
      case '80600003':
        return { done: certificateRefused(part, code, info, FIX_CREDENTIALS) };
      case '80200001':
      case '80200003':
        return refusedAuth(part, how.fresh, code, info, FIX_CREDENTIALS);
    }
    return undefined;
  });
}

/**
 * Huawei's receipt statuses that mean the token is gone: 2 the app is not installed, 5 the token is
 * not the device's (Huawei's receipt status table, HMS Core guide "消息回执"; it advises filtering
 * 2, 5, 6, 10 and 201, of which 6, 10 and 201 may pass, so they are losses that keep the token).
 */
const RECEIPT_DEAD = new Set([2, 5]);

/**
 * Reads a Huawei receipt post: `{statuses: [...]}`, version 1 (HMS v1 sends: `{token, biTag,
 * status, timestamp, appid, requestId}`) or version 2 (HarmonyOS v3 sends: `{token, pushType,
 * biTag, requestId, deliveryStatus: {result, timestamp}}`). Status 0 is reached. A status without
 * a biTag belongs to no Herald push and is skipped.
 */
export function huaweiReceipts(body: Buffer): ReceiptEvent[] {
  let parsed: { statuses?: unknown };
  try {
    parsed = JSON.parse(body.toString()) as { statuses?: unknown };
  } catch {
    return [];
  }
  if (!Array.isArray(parsed.statuses)) return [];
  const out: ReceiptEvent[] = [];
  for (const s of parsed.statuses as { token?: unknown; biTag?: unknown; status?: unknown; deliveryStatus?: { result?: unknown } }[]) {
    const status = Number(s?.deliveryStatus?.result ?? s?.status);
    if (typeof s?.biTag !== 'string' || !s.biTag || !Number.isInteger(status)) continue;
    const token = typeof s.token === 'string' ? s.token : undefined;
    const outcome = status === 0 ? 'reached' : RECEIPT_DEAD.has(status) && token ? 'dead' : 'failed';
    out.push({ taskId: s.biTag, ...(token ? { token } : {}), outcome, ...(status !== 0 ? { code: status, info: `receipt status ${status}` } : {}) });
  }
  return out;
}
