import crypto from 'node:crypto';
import { batchesByLanguage, resultForAll, type CertificateCheck, type ReceiptEvent, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { withRetries, type Answer } from '../net/retry.js';
import { AccessTokens } from '../net/access-tokens.js';
import { heraldPayload } from './push-data.js';
import { androidInfo, arrivals, idList, jsonOf, md5Hex, notifyIdOf, postJson, text, tokenCheck, TokenRefused, ttlSeconds, untilChinaMidnight, withToken, type SendOptions, type VendorReply, overwritingAdapter } from './china-vendors.js';

const HOST = 'https://api-push.vivo.com.cn';
/** Public clients cap a regId list at 1,000 (vendor-protocols.md §8 [V3]); the doc's own limit was not captured. */
const MAX_LIST = 1000;
/**
 * title at most 20 and content at most 50 Chinese characters, a Chinese character counting as two
 * ASCII ones (vivo push API, "send single notification"; §8 corrections): 40 and 100 of that count.
 */
const TITLE_MAX = 40;
const CONTENT_MAX = 100;
/** timeToLive: 60 s to 7 days (vivo push API, "send single notification"; §8 corrections). */
const MIN_TTL = 60;
const MAX_TTL = 7 * 86_400;
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
/**
 * §8 [V2]: 10094, the body's appId is not the authToken's: the certificate's appId and keys do not
 * belong together. It stops the certificate, as a refused authToken does.
 */
const APP_MISMATCH = 10094;
/** §8: refusals whose meaning is known: appId mismatch, category invalid or mismatched. */
const KNOWN = new Set([...QUOTA, APP_MISMATCH, 10096, 10097]);
const CHECK_CERTIFICATE = "check the certificate's appId, appKey and appSecret (vivo push platform, app info)";

interface VivoConfig {
  appId: string;
  appKey: string;
  appSecret: string;
  baseUrl?: string;
}

/**
 * authToken per app and keys (a certificate given new keys does not keep the old token). vivo keeps
 * one valid for a day and asks callers to renew it every 1–2 hours (§8): it is cached for an hour.
 */
const tokens = new AccessTokens();

function authToken(base: string, c: VivoConfig, fresh: boolean): Promise<string> {
  return tokens.get(`${base} ${c.appId} ${md5Hex(c.appKey + c.appSecret)}`, fresh, async () => {
    // §8: sign = lower-case MD5 of appId + appKey + timestamp + appSecret
    const timestamp = Date.now();
    const { body } = await postJson(`${base}/message/auth`, { appId: c.appId, appKey: c.appKey, timestamp, sign: md5Hex(`${c.appId}${c.appKey}${timestamp}${c.appSecret}`) });
    const token = text(body.authToken);
    // /message/auth checks only the appId, appKey, timestamp and sign: a refusal is the credentials'
    if (body.result !== 0 || !token) throw new TokenRefused(typeof body.result === 'number' ? body.result : -1, `vivo auth: ${String(body.desc ?? 'no authToken')}`);
    return { token, expiresIn: 3600 + 60 };
  });
}

/** vivo's width of a character: two for a Chinese one, one for ASCII (anything else is counted as two). */
const widthOf = (ch: string): number => (ch.codePointAt(0)! < 0x80 ? 1 : 2);

/**
 * `s` within `limit` of vivo's width, cut Tencent's way (reference §2.8): to limit − 3 and "...",
 * whole characters only.
 */
function cutToVivoWidth(s: string, limit: number): string {
  const chars = [...s];
  if (chars.reduce((w, ch) => w + widthOf(ch), 0) <= limit) return s;
  let out = '';
  let width = 0;
  for (const ch of chars) {
    if (width + widthOf(ch) > limit - 3) break;
    out += ch;
    width += widthOf(ch);
  }
  return `${out}...`;
}

/** The message fields of one language variant (§8), shared by a single send and a saved list payload. */
function fields(c: VivoConfig, message: VendorMessage, locale: string | null): Record<string, unknown> {
  const m = message.render(locale);
  const a = androidInfo(m);
  const f: Record<string, unknown> = {
    appId: c.appId,
    // Tencent's defaults: ring and vibrate, system message (reference §3.3)
    notifyType: typeof a.VIVONotifyType === 'number' ? a.VIVONotifyType : 4,
    title: cutToVivoWidth(m.title || ' ', TITLE_MAX),
    content: cutToVivoWidth(m.desc || ' ', CONTENT_MAX),
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
export const vivoAdapter: VendorAdapter = overwritingAdapter((config, message, targets, opts) => sendAll(config as unknown as VivoConfig, message, targets, opts), CALLBACK_URL_MAX, receipts, check);

/** An authToken is issued only for an appId with its appKey, signed with its appSecret (§8): nothing is sent. */
function check(config: Record<string, unknown>): Promise<CertificateCheck> {
  const c = config as unknown as VivoConfig;
  return tokenCheck(() => authToken(c.baseUrl ?? HOST, c, true), `vivo issued an authToken for appId ${c.appId}`, CHECK_CERTIFICATE);
}

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

async function sendAll(c: VivoConfig, message: VendorMessage, targets: readonly VendorTarget[], opts: SendOptions): Promise<VendorResult[]> {
  const out: VendorResult[] = [];
  for (const part of batchesByLanguage(message, targets, MAX_LIST)) {
    const body = fields(c, message, part[0]!.locale);
    out.push(...(part.length === 1 ? await sendOne(c, body, part[0]!, message.taskId, opts) : await sendList(c, body, part, opts.proven)));
  }
  return out;
}

/**
 * A user vivo names invalid (`invalidUser.status`, vivo push API via §8 [V1]): 1 the regId does
 * not exist, 2 the app was uninstalled or its notifications turned off, 3 not online for 90 days,
 * 4 not a test user.
 */
interface InvalidUser {
  userid?: unknown;
  status?: unknown;
}

/**
 * Status 2 cannot tell an uninstalled app from notifications turned off, so the token stays and the
 * device counts as switched off. Status 1 is also what every regId gets from a certificate of
 * another app: it clears the token only once the certificate is known to work.
 */
function invalidResult(t: VendorTarget, u: InvalidUser, code: number, proven: boolean): VendorResult {
  const status = Number(u.status);
  const info = `invalid user, status ${status}${status === 2 ? ' (uninstalled or notifications off)' : ''}`;
  const outcome = status === 2 ? 'switched_off' : status === 1 && proven ? 'dead' : 'failed';
  return { registrationId: t.registrationId, outcome, code: code || status, info };
}

async function sendOne(c: VivoConfig, fieldsOf: Record<string, unknown>, t: VendorTarget, taskId: string, { receiptUrl, proven }: SendOptions): Promise<VendorResult[]> {
  // one requestId for every attempt, so vivo can tell a retry from a new message
  const body = { ...fieldsOf, regId: t.token, requestId: crypto.randomUUID(), ...(receiptUrl ? { extra: { callback: receiptUrl, 'callback.param': taskId } } : {}) };
  return call(c, '/message/send', body, [t], (r) => {
    const u = r.body.invalidUser as InvalidUser | undefined;
    if (u && typeof u === 'object') return [invalidResult(t, u, Number(r.body.result ?? 0), proven)];
    return r.body.result === 0 ? [{ registrationId: t.registrationId, outcome: 'sent' }] : undefined;
  });
}

async function sendList(c: VivoConfig, fieldsOf: Record<string, unknown>, part: readonly VendorTarget[], proven: boolean): Promise<VendorResult[]> {
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
    // a regId taken beside the invalid ones shows the certificate works
    const works = proven || part.some((t) => !invalid.has(t.token));
    return part.map((t) => (invalid.has(t.token) ? invalidResult(t, invalid.get(t.token)!, 0, works) : { registrationId: t.registrationId, outcome: 'sent' }));
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
    (fresh) =>
      withToken(
        () => authToken(base, c, fresh),
        (err) => ({ done: all({ outcome: 'certificate', code: err.code, info: `${err.info}: ${CHECK_CERTIFICATE}` }) }),
        async (token): Promise<Answer<VendorResult[]>> => {
          const r = await postJson(`${base}${path}`, body, { authToken: token });
          const done = ok(r);
          if (done) return { done };
          const code = typeof r.body.result === 'number' ? r.body.result : r.status;
          const info = String(r.body.desc ?? 'refused');
          // vivo answers a server error with HTTP 500 (§8 [V2])
          if (r.status >= 500) return { later: `${code} ${info}`, retryAfter: r.retryAfter };
          if (QUOTA.has(code)) return { done: all({ outcome: 'failed', code, info, pauseMs: untilChinaMidnight() }) };
          if (code === APP_MISMATCH) return { done: all({ outcome: 'certificate', code, info: `${info}: ${CHECK_CERTIFICATE}` }) };
          if (!KNOWN.has(code) && !fresh) return { auth: `${code} ${info}` };
          return { done: all({ outcome: 'failed', code, info }) };
        },
      ),
    (info, code) => all({ outcome: 'failed', code, info }),
  );
}
