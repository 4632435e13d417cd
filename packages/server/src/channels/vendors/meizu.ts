import crypto from 'node:crypto';
import { batchesByLanguage, resultForAll, type ReceiptEvent, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { truncateUtf16 } from './truncate.js';
import { withRetries, type Answer } from '../net/retry.js';
import { heraldPayload } from './push-data.js';
import { androidInfo, arrivals, jsonOf, md5Hex, postForm, ttlSeconds, untilChinaMidnight, overwritingAdapter } from './china-vendors.js';

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

/** §9 `value` codes for pushIds that will never work: unsubscribed, illegal, alias invalid, switched off. */
const DEAD = new Set([110002, 110003, 110005, 110010]);
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
export const meizuAdapter: VendorAdapter = overwritingAdapter((config, message, targets, receiptUrl) => sendAll(config as unknown as MeizuConfig, message, targets, receiptUrl), CALLBACK_URL_MAX, receipts);

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

async function sendAll(c: MeizuConfig, message: VendorMessage, targets: readonly VendorTarget[], receiptUrl: string | undefined): Promise<VendorResult[]> {
  const out: VendorResult[] = [];
  for (const part of batchesByLanguage(message, targets, MAX_PUSH_IDS)) {
    out.push(...(await sendBatch(c, messageJson(message, part[0]!.locale, receiptUrl), part)));
  }
  return out;
}

/**
 * One batch. Meizu answers 200 with a `value` map of only the pushIds that failed (§9): dead ones
 * are cleared, ones Meizu failed on its side are sent again (only those), the rest are sent.
 */
async function sendBatch(c: MeizuConfig, json: string, part: readonly VendorTarget[]): Promise<VendorResult[]> {
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
        for (const t of pending) {
          const f = failed.get(t.token);
          if (f === undefined) settled.push({ registrationId: t.registrationId, outcome: 'sent' });
          else if (AGAIN.has(f)) again.push(t);
          else settled.push({ registrationId: t.registrationId, outcome: DEAD.has(f) ? 'dead' : 'failed', code: f, info: `pushId refused (${f})` });
        }
        pending = again;
        return again.length === 0 ? { done: settled } : { later: `${failed.get(again[0]!.token)} push failed` };
      }
      if (LATER.has(code) || r.status >= 500) return { later: `${code} ${info}`, retryAfter: r.retryAfter };
      if (code === QUOTA) return { done: rest({ outcome: 'failed', code, info, pauseMs: untilChinaMidnight() }) };
      // 1006 sign failure, 110000/110001/110033 bad app credentials: the certificate must be fixed; no token to renew
      return { done: rest({ outcome: 'failed', code, info }) };
    },
    (info, code) => rest({ outcome: 'failed', code, info }),
  );
}
