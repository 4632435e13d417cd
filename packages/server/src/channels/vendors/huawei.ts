import { batchesByLanguage, resultForAll, type ReceiptEvent, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { truncateUtf16 } from './truncate.js';
import { withRetries, type Answer } from '../net/retry.js';
import { AccessTokens, tokenRequest } from '../net/access-tokens.js';
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
  return tokens.get(`${url} ${c.clientId}`, fresh, () => tokenRequest(url, { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }, 'Huawei'));
}

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

function sendAll(c: HuaweiConfig, message: VendorMessage, targets: readonly VendorTarget[], biTag: boolean): Promise<VendorResult[]> {
  const url = `${c.baseUrl ?? HUAWEI_PUSH_HOST}/v1/${encodeURIComponent(c.clientId)}/messages:send`;
  return sendByLanguage(message, targets, HUAWEI_MAX_TOKENS, (part) => {
    const body = JSON.stringify(messageFor(c, message, part[0]!, part.map((t) => t.token), biTag));
    return async (fresh) => {
      const res = await httpPost(url, { authorization: `Bearer ${await accessToken(c, fresh)}`, 'content-type': 'application/json;charset=UTF-8' }, body);
      return huaweiAnswer(res, part);
    };
  });
}

/**
 * Huawei Push Kit v1: devices batched by language, up to 1,000 tokens a request. Receipts: Huawei
 * posts them to the address set in AppGallery Connect (not per message), which the operator sets
 * to Herald's receipt URL; the TaskId travels in `bi_tag`.
 */
export const huaweiAdapter: VendorAdapter = {
  send(config, message, targets) {
    return sendAll(config as unknown as HuaweiConfig, message, targets, true);
  },
  /** HMS v1 has no revoke endpoint (§12): the replacement text overwrites by the same notify_id and tag (§3.4). */
  async recall(config, { message, targets }) {
    await sendAll(config as unknown as HuaweiConfig, message, targets, false);
  },
  receipts: huaweiReceipts,
};

/**
 * Reads a Huawei-family answer `{code, msg, requestId}` (§3.3, and §4.4 for HarmonyOS): 80000000
 * sent; 80100000 partial, its `illegal_tokens` dead; 80300007 every token invalid; a refused
 * access token or JWT (80200001, 80200003, 80200005, 401) renewed once; 5xx (502 unstable, 503
 * flow control) retried; any other code is a failure with that code.
 */
export async function huaweiAnswer(res: VendorResponse, part: readonly VendorTarget[]): Promise<Answer<VendorResult[]>> {
  const r = (await res.json().catch(() => ({}))) as { code?: string; msg?: string };
  const code = Number(r.code ?? res.status);
  const all = (x: Parameters<typeof resultForAll>[1]) => resultForAll(part, x);
  if (r.code === '80000000') return { done: all({ outcome: 'sent' }) };
  if (r.code === '80100000') {
    let illegal = new Set<string>();
    try {
      illegal = new Set((JSON.parse(r.msg ?? '{}') as { illegal_tokens?: string[] }).illegal_tokens ?? []);
    } catch {
      // an unreadable msg: count them all as sent rather than clear good tokens
    }
    return { done: part.map((t) => (illegal.has(t.token) ? { registrationId: t.registrationId, outcome: 'dead', code, info: 'illegal token' } : { registrationId: t.registrationId, outcome: 'sent' })) };
  }
  if (r.code === '80300007') return { done: all({ outcome: 'dead', code, info: r.msg ?? 'all tokens invalid' }) };
  if (r.code === '80200001' || r.code === '80200003' || r.code === '80200005' || res.status === 401) return { auth: `${code} ${r.msg ?? ''}` };
  if (res.status >= 500) return { later: `${code} ${r.msg ?? res.statusText}`, retryAfter: res.headers.get('retry-after') };
  return { done: all({ outcome: 'failed', code, info: r.msg ?? res.statusText }) };
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
