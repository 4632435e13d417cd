import crypto from 'node:crypto';
import { batchesByLanguage, resultForAll, type CertificateCheck, type ReceiptEvent, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { truncateUtf16 } from './truncate.js';
import { withRetries, type Answer } from '../net/retry.js';
import { heraldPayload } from './push-data.js';
import { androidInfo, arrivals, checked, chinaDay, jsonOf, md5Hex, postForm, ttlSeconds, untilChinaMidnight, overwritingAdapter, type SendOptions } from './china-vendors.js';
import { httpGet } from '../net/http-post.js';

const HOST = 'https://server-api-push.meizu.com';
const PATH = '/garcia/api/server/push/varnished/pushByPushId';
/** pushByPushId takes at most 100 pushIds (vendor-protocols.md §9). */
const MAX_PUSH_IDS = 100;
/** Tencent's Meizu limits: title 32, content 100 (reference §2.8; §9). */
const TITLE_MAX = 32;
const CONTENT_MAX = 100;
/** pushTimeInfo.validTime: 1 to 72 hours (§9). */
const MAX_HOURS = 72;
/** extra.callback: at most 128 bytes (Meizu's push API README, [M1]). */
const CALLBACK_URL_MAX = 128;

/*
 * Meizu's codes ([M1]: "API说明 前言" for `value`, "接口响应规范" for the top-level `code`).
 * `value` 110002 (pushId not subscribed; "unsubscribed or switch off" in the reference's
 * corrections), 110005 (alias not subscribed or switched off) and 110010 (the pushId's message
 * switch is off) do not say the app is gone: the token stays and the device counts as switched off.
 */
const SWITCHED_OFF = new Set([110002, 110005, 110010]);
/** `value` 110003, illegal pushId: also what another app's pushIds get, so a token is cleared only on a certificate known to work. */
const ILLEGAL = 110003;
/**
 * Top-level refusals of the app or its credentials: 1006 sign failure (a wrong appSecret), 110000
 * illegal appId, 110001 illegal appKey, 110009 app blacklisted, 110031 illegal packageName, 110033
 * illegal appSecret.
 */
const CERTIFICATE = new Set([1006, 110000, 110001, 110009, 110031, 110033]);
const CHECK_CERTIFICATE = "check the certificate's appId and appSecret (Flyme push platform, app info)";
/** §9 `value` codes for a push that failed on Meizu's side (501 db error in [M1]; 513 failure; 519 overload): those pushIds are tried again. */
const AGAIN = new Set([501, 513, 519]);
/** §9 top-level: 500/1001 system error, 1003 busy, 110010 rate too fast. */
const LATER = new Set([500, 1001, 1003, 110010]);
/** §9 top-level 110019: the app's daily limit is spent; Meizu resets it with the day. */
const QUOTA = 110019;

interface MeizuConfig {
  appId: string;
  appSecret: string;
  baseUrl?: string;
}

/** §9: sort every parameter by name, join `k=v` with no separator, append the appSecret, MD5 over the raw values. */
function signed(params: Record<string, string>, appSecret: string): Record<string, string> {
  const base = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('');
  return { ...params, sign: md5Hex(base + appSecret) };
}

/** notifyKey: at most 8 of [0-9a-zA-Z_-]; notifications with the same key show only the latest (§9), so a resend replaces it. */
const notifyKeyOf = (taskId: string) => crypto.createHash('sha256').update(taskId).digest('base64url').slice(0, 8);

function messageJson(message: VendorMessage, locale: string | null, receiptUrl: string | undefined): string {
  const m = message.render(locale);
  const a = androidInfo(m);
  const noticeBarInfo: Record<string, unknown> = { noticeBarType: 0, title: truncateUtf16(m.title || ' ', TITLE_MAX), content: truncateUtf16(m.desc || ' ', CONTENT_MAX) };
  // MeiZuNoticeMsgType: 0 public, 1 private (reference §3.3; §9)
  if (a.MeiZuNoticeMsgType === 0 || a.MeiZuNoticeMsgType === 1) noticeBarInfo.noticeMsgType = a.MeiZuNoticeMsgType;
  const json: Record<string, unknown> = {
    noticeBarInfo,
    // clickType 0 opens the app, which reads Herald's payload from parameters
    clickTypeInfo: { clickType: 0, parameters: heraldPayload(message.taskId, m) },
    pushTimeInfo: { offLine: 1, validTime: Math.ceil(ttlSeconds(message.expiresAt, 3600, MAX_HOURS * 3600) / 3600) },
    advanceInfo: { notifyKey: notifyKeyOf(message.taskId) },
  };
  // callback.type 1: delivery receipts only ([M1]); Herald counts arrivals
  if (receiptUrl) json.extra = { callback: receiptUrl, 'callback.param': message.taskId, 'callback.type': 1 };
  return JSON.stringify(json);
}

/**
 * Meizu (Flyme) Push `pushByPushId` (notification bar): devices batched by language, 100 pushIds a
 * request, each request signed. Recall: Meizu's cancel works only on pending broadcast tasks (§9),
 * so the replacement is sent with the same notifyKey, which replaces the notification.
 */
export const meizuAdapter: VendorAdapter = overwritingAdapter((config, message, targets, opts) => sendAll(config as unknown as MeizuConfig, message, targets, opts), CALLBACK_URL_MAX, receipts, check);

/**
 * Asks for today's push statistics of the app (`GET /garcia/api/server/push/statistics/dailyPushStatics`,
 * [M1] "获取应用推送统计"), signed like every call: it notifies no one, and Meizu answers it only for
 * an appId signed with its appSecret.
 */
function check(config: Record<string, unknown>): Promise<CertificateCheck> {
  const c = config as unknown as MeizuConfig;
  const day = chinaDay();
  const query = new URLSearchParams(signed({ appId: c.appId, startTime: day, endTime: day }, c.appSecret));
  return checked(async () => {
    const res = await httpGet(`${c.baseUrl ?? HOST}/garcia/api/server/push/statistics/dailyPushStatics?${query}`, {});
    const body = (await res.json().catch(() => ({ code: res.status, message: res.statusText }))) as { code?: unknown; message?: unknown };
    const code = Number(body.code ?? res.status);
    if (code === 200) return { ok: true, info: `Meizu took the appId ${c.appId} and the sign of its appSecret` };
    const info = `${code} ${String(body.message || 'refused')}`;
    return { ok: false, code, info: CERTIFICATE.has(code) ? `${info}: ${CHECK_CERTIFICATE}` : info };
  }, CHECK_CERTIFICATE);
}

/**
 * Meizu posts a form with `cb` = JSON `{"<msgId>-<type>": {param, type, targets}}` ([M1],
 * "消息送达与回执"); type 1 is a delivery, 2 a click (not counted here).
 */
function receipts(body: Buffer): ReceiptEvent[] {
  const cb = jsonOf(new URLSearchParams(body.toString('utf8')).get('cb') ?? '');
  if (typeof cb !== 'object' || cb === null) return [];
  const entries = Object.values(cb as Record<string, { param?: unknown; type?: unknown; targets?: unknown }>);
  return entries.flatMap((r) => (Number(r?.type) === 1 && Array.isArray(r.targets) ? arrivals(r.param, r.targets) : []));
}

async function sendAll(c: MeizuConfig, message: VendorMessage, targets: readonly VendorTarget[], { receiptUrl, proven }: SendOptions): Promise<VendorResult[]> {
  const out: VendorResult[] = [];
  for (const part of batchesByLanguage(message, targets, MAX_PUSH_IDS)) {
    out.push(...(await sendBatch(c, messageJson(message, part[0]!.locale, receiptUrl), part, proven)));
  }
  return out;
}

/** What a `value` code says of one pushId; a pushId taken beside it (`works`) shows the certificate works. */
function pushIdResult(t: VendorTarget, code: number, works: boolean): VendorResult {
  const info = `pushId refused (${code})`;
  if (SWITCHED_OFF.has(code)) return { registrationId: t.registrationId, outcome: 'switched_off', code, info };
  return { registrationId: t.registrationId, outcome: code === ILLEGAL && works ? 'dead' : 'failed', code, info };
}

/**
 * One batch. Meizu answers 200 with a `value` map of only the pushIds that failed (§9): ones Meizu
 * failed on its side are sent again (only those), the others are read by `pushIdResult`, the rest
 * are sent.
 */
async function sendBatch(c: MeizuConfig, json: string, part: readonly VendorTarget[], proven: boolean): Promise<VendorResult[]> {
  const settled: VendorResult[] = [];
  let pending = [...part];
  const rest = (r: Parameters<typeof resultForAll>[1]) => [...settled, ...resultForAll(pending, r)];
  return withRetries<VendorResult[]>(
    async (): Promise<Answer<VendorResult[]>> => {
      const form = signed({ appId: c.appId, pushIds: pending.map((t) => t.token).join(','), messageJson: json }, c.appSecret);
      const r = await postForm(`${c.baseUrl ?? HOST}${PATH}`, form);
      const code = Number(r.body.code ?? r.status);
      const info = String(r.body.message || 'refused');
      if (code === 200) {
        const failed = new Map<string, number>();
        const value = r.body.value;
        if (value && typeof value === 'object') {
          for (const [k, ids] of Object.entries(value as Record<string, unknown>)) if (Array.isArray(ids)) for (const id of ids) failed.set(String(id), Number(k));
        }
        const again: VendorTarget[] = [];
        const works = proven || pending.some((t) => !failed.has(t.token));
        for (const t of pending) {
          const f = failed.get(t.token);
          if (f === undefined) settled.push({ registrationId: t.registrationId, outcome: 'sent' });
          else if (AGAIN.has(f)) again.push(t);
          else settled.push(pushIdResult(t, f, works));
        }
        pending = again;
        return again.length === 0 ? { done: settled } : { later: `${failed.get(again[0]!.token)} push failed` };
      }
      if (LATER.has(code) || r.status >= 500) return { later: `${code} ${info}`, retryAfter: r.retryAfter };
      if (code === QUOTA) return { done: rest({ outcome: 'failed', code, info, pauseMs: untilChinaMidnight() }) };
      if (CERTIFICATE.has(code)) return { done: rest({ outcome: 'certificate', code, info: `${info}: ${CHECK_CERTIFICATE}` }) };
      return { done: rest({ outcome: 'failed', code, info }) };
    },
    (info, code) => rest({ outcome: 'failed', code, info }),
  );
}
