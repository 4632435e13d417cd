import crypto from 'node:crypto';
import { batchesByLanguage, resultForAll, type ReceiptEvent, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { truncateUtf16 } from './truncate.js';
import { withRetries, type Answer } from '../net/retry.js';
import { AccessTokens } from '../net/access-tokens.js';
import { heraldPayload } from './push-data.js';
import { androidInfo, arrivals, idList, jsonOf, md5Hex, notifyIdOf, postJson, text, ttlSeconds, untilChinaMidnight, type VendorReply, overwritingAdapter } from './china-vendors.js';

const HOST = 'https://api-push.vivo.com.cn';
/** Public clients cap a regId list at 1,000 (vendor-protocols.md §8 [V3]); the doc's own limit was not captured. */
const MAX_LIST = 1000;
/** Tencent's vivo limits: title 40, content 100 (reference §2.8; §8). */
const TITLE_MAX = 40;
const CONTENT_MAX = 100;
/** timeToLive: 60 s to 1 day (§8). */
const MIN_TTL = 60;
const MAX_TTL = 86_400;
/** clientCustomMap: at most 1,024 characters in all (§8). */
const CUSTOM_MAX = 1024;
/** extra.callback: at most 128 characters (vivo server API v2.9.2, §8 [V2]). */
const CALLBACK_URL_MAX = 128;
/**
 * §8: 10070 total send limit ("do not call /message/send that day"), 10252 list-payload limit,
 * 10254 broadcast limit; vivo lowers the quota of apps that keep calling, so the certificate pauses
 * until the day is over.
 */
const QUOTA = new Set([10070, 10252, 10254]);
/** §8: refusals whose meaning is known: appId mismatch, category invalid or mismatched. */
const KNOWN = new Set([...QUOTA, 10094, 10096, 10097]);

interface VivoConfig {
  appId: string;
  appKey: string;
  appSecret: string;
  baseUrl?: string;
}

/**
 * authToken per app. vivo keeps one valid for a day and asks callers to renew it every 1–2 hours
 * (§8): it is cached for an hour.
 */
const tokens = new AccessTokens();

function authToken(base: string, c: VivoConfig, fresh: boolean): Promise<string> {
  return tokens.get(`${base} ${c.appId}`, fresh, async () => {
    // §8: sign = lower-case MD5 of appId + appKey + timestamp + appSecret
    const timestamp = Date.now();
    const { body } = await postJson(`${base}/message/auth`, { appId: c.appId, appKey: c.appKey, timestamp, sign: md5Hex(`${c.appId}${c.appKey}${timestamp}${c.appSecret}`) });
    const token = text(body.authToken);
    if (body.result !== 0 || !token) throw new Error(`vivo auth ${String(body.result)} ${String(body.desc ?? '')}`);
    return { token, expiresIn: 3600 + 60 };
  });
}

/** The message fields of one language variant (§8), shared by a single send and a saved list payload. */
function fields(c: VivoConfig, message: VendorMessage, locale: string | null): Record<string, unknown> {
  const m = message.render(locale);
  const a = androidInfo(m);
  const f: Record<string, unknown> = {
    appId: c.appId,
    // Tencent's defaults: ring and vibrate, system message (reference §3.3)
    notifyType: typeof a.VIVONotifyType === 'number' ? a.VIVONotifyType : 4,
    title: truncateUtf16(m.title || ' ', TITLE_MAX),
    content: truncateUtf16(m.desc || ' ', CONTENT_MAX),
    timeToLive: ttlSeconds(message.expiresAt, MIN_TTL, MAX_TTL),
    skipType: 1, // open the app; it reads Herald's payload from clientCustomMap
    classification: typeof a.VIVOClassification === 'number' ? a.VIVOClassification : 1,
    clientCustomMap: customMap(message, m),
    pushMode: 0,
    notifyId: notifyIdOf(message.taskId),
  };
  const category = text(a.VIVOCategory);
  if (category) f.category = category.toUpperCase();
  return f;
}

/** Herald's payload as string pairs within clientCustomMap's 1,024 characters (its JSON is longer than its keys and values). */
const customMap = (message: VendorMessage, m: ReturnType<VendorMessage['render']>): Record<string, string> => heraldPayload(message.taskId, m, CUSTOM_MAX);

/**
 * vivo Push: one device by `/message/send` (the only call that takes receipts, §8 [V2]); more by
 * `/message/saveListPayload` and `/message/pushToList` per language, up to 1,000 regIds. Recall:
 * no vivo revoke API was found (§8, §12); the replacement is sent with the same notifyId, which
 * replaces the notification on the device.
 */
export const vivoAdapter: VendorAdapter = overwritingAdapter((config, message, targets, receiptUrl) => sendAll(config as unknown as VivoConfig, message, targets, receiptUrl), CALLBACK_URL_MAX, receipts);

/**
 * vivo's receipt body is not described in §8. Public receiver code in the code index reads a JSON
 * object keyed by vivo's taskId whose values carry `param` (callback.param) and `targets` (regIds,
 * comma-separated); that reading is used here, every entry counted as an arrival.
 */
function receipts(body: Buffer): ReceiptEvent[] {
  const parsed = jsonOf(body.toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [];
  return Object.values(parsed as Record<string, { param?: unknown; targets?: unknown }>).flatMap((e) => arrivals(e?.param, idList(e?.targets)));
}

async function sendAll(c: VivoConfig, message: VendorMessage, targets: readonly VendorTarget[], receiptUrl: string | undefined): Promise<VendorResult[]> {
  const out: VendorResult[] = [];
  for (const part of batchesByLanguage(message, targets, MAX_LIST)) {
    const body = fields(c, message, part[0]!.locale);
    out.push(...(part.length === 1 ? await sendOne(c, body, part[0]!, message.taskId, receiptUrl) : await sendList(c, body, part)));
  }
  return out;
}

/** A user vivo names invalid: status 1 unknown id, 2 uninstalled or unsubscribed (drop, §8); 4 not a test user. */
interface InvalidUser {
  userid?: unknown;
  status?: unknown;
}

function invalidResult(t: VendorTarget, u: InvalidUser, code: number): VendorResult {
  const status = Number(u.status);
  const info = `invalid user, status ${status}`;
  return { registrationId: t.registrationId, outcome: status === 1 || status === 2 ? 'dead' : 'failed', code: code || status, info };
}

async function sendOne(c: VivoConfig, fieldsOf: Record<string, unknown>, t: VendorTarget, taskId: string, receiptUrl: string | undefined): Promise<VendorResult[]> {
  // one requestId for every attempt, so vivo can tell a retry from a new message
  const body = { ...fieldsOf, regId: t.token, requestId: crypto.randomUUID(), ...(receiptUrl ? { extra: { callback: receiptUrl, 'callback.param': taskId } } : {}) };
  return call(c, '/message/send', body, [t], (r) => {
    const u = r.body.invalidUser as InvalidUser | undefined;
    if (u && typeof u === 'object') return [invalidResult(t, u, Number(r.body.result ?? 0))];
    return r.body.result === 0 ? [{ registrationId: t.registrationId, outcome: 'sent' }] : undefined;
  });
}

async function sendList(c: VivoConfig, fieldsOf: Record<string, unknown>, part: readonly VendorTarget[]): Promise<VendorResult[]> {
  let listTaskId = '';
  const saved = await call(c, '/message/saveListPayload', { ...fieldsOf, requestId: crypto.randomUUID() }, part, (r) => {
    listTaskId = text(r.body.taskId) ?? String(r.body.taskId ?? '');
    return r.body.result === 0 && listTaskId ? [] : undefined;
  });
  if (saved.length > 0) return saved;
  const body = { appId: c.appId, regIds: part.map((t) => t.token), taskId: listTaskId, requestId: crypto.randomUUID() };
  return call(c, '/message/pushToList', body, part, (r) => {
    if (r.body.result !== 0) return undefined;
    const invalid = new Map(((Array.isArray(r.body.invalidUsers) ? r.body.invalidUsers : []) as InvalidUser[]).map((u) => [String(u.userid), u]));
    return part.map((t) => (invalid.has(t.token) ? invalidResult(t, invalid.get(t.token)!, 0) : { registrationId: t.registrationId, outcome: 'sent' }));
  });
}

/**
 * One vivo call with the authToken header. `ok` reads a success (undefined: a refusal). vivo's
 * code for an expired or unknown authToken is not in the stored sources (§8: full error table not
 * found), so a refusal whose code means nothing known is taken as a possibly stale token once:
 * the call is repeated with a new token, and a second refusal is a loss with vivo's code.
 */
function call(c: VivoConfig, path: string, body: unknown, part: readonly VendorTarget[], ok: (r: VendorReply) => VendorResult[] | undefined): Promise<VendorResult[]> {
  const base = c.baseUrl ?? HOST;
  const all = (r: Parameters<typeof resultForAll>[1]) => resultForAll(part, r);
  return withRetries<VendorResult[]>(
    async (fresh): Promise<Answer<VendorResult[]>> => {
      const r = await postJson(`${base}${path}`, body, { authToken: await authToken(base, c, fresh) });
      const done = ok(r);
      if (done) return { done };
      const code = typeof r.body.result === 'number' ? r.body.result : r.status;
      const info = String(r.body.desc ?? 'refused');
      // vivo answers a server error with HTTP 500 (§8 [V2])
      if (r.status >= 500) return { later: `${code} ${info}`, retryAfter: r.retryAfter };
      if (QUOTA.has(code)) return { done: all({ outcome: 'failed', code, info, pauseMs: untilChinaMidnight() }) };
      if (!KNOWN.has(code) && !fresh) return { auth: `${code} ${info}` };
      return { done: all({ outcome: 'failed', code, info }) };
    },
    (info, code) => all({ outcome: 'failed', code, info }),
  );
}
