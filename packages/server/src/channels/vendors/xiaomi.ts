import { batchesByLanguage, overwriteRecall, resultForAll, type CertificateCheck, type ReceiptEvent, type SendContext, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { truncateUtf16 } from './truncate.js';
import { checked, chinaDay, notifyIdOf, untilChinaMidnight } from './china-vendors.js';
import { heraldPayload } from './push-data.js';
import { withRetries } from '../net/retry.js';
import { httpGet, httpPost, type VendorResponse } from '../net/http-post.js';

const HOST = 'https://api.xmpush.xiaomi.com';
/** Tencent's Mi limits: title 50, text 128 (reference §2.8); Xiaomi wants them under those counts (vendor-protocols.md §6.2). */
const TITLE_MAX = 49;
const DESC_MAX = 127;
/** The reference names no upper bound on regIds per call; batches stay modest. */
const MAX_REGIDS = 100;
/*
 * MiPush's codes by what Herald does (Xiaomi, "服务端错误码参考", dev.mi.com pId=1560; §6.3).
 * Retried: 10001 system error, 10002 busy, 10003 remote service error, 10027 API called too often,
 * 26003 internal push call failed, 65029 remote service exception.
 */
const RETRY = new Set([10001, 10002, 10003, 10027, 26003, 65029]);
/** Daily quotas spent (§6.3, §6.4): 200001 exceed quota, 10034 too many messages today. */
const DAILY_QUOTA = new Set([200001, 10034]);
/**
 * The credentials or the app refused, whatever the devices: 21301 authentication failed, 21302
 * token authentication failed, 22000 illegal app, 22006 app id, 22007 app key, 22022 package name
 * invalid, 10031 app blacklisted from sending, 10036 app operations forbidden.
 */
const CERTIFICATE = new Set([21301, 21302, 22000, 22006, 22007, 22022, 10031, 10036]);
const CHECK_CERTIFICATE = "check the certificate's appSecret and packageName (MiPush console, app info)";

interface XiaomiConfig {
  appSecret: string;
  packageName: string;
  baseUrl?: string;
}

/** notify_id (0..2^31-1) from the TaskId: a resend or overwrite replaces the notification (§6.2). */
function form(c: XiaomiConfig, message: VendorMessage, locale: string | null, regIds: string[], ttlMs: number, ctx: SendContext): URLSearchParams {
  const m = message.render(locale);
  const a = (m.info.AndroidInfo ?? {}) as Record<string, unknown>;
  const f = new URLSearchParams({
    registration_id: regIds.join(','),
    restricted_package_name: c.packageName,
    pass_through: '0',
    title: truncateUtf16(m.title || ' ', TITLE_MAX),
    description: truncateUtf16(m.desc || ' ', DESC_MAX),
    payload: JSON.stringify(heraldPayload(message.taskId, m)),
    notify_type: '-1',
    time_to_live: String(ttlMs),
    notify_id: String(notifyIdOf(message.taskId)),
  });
  if (typeof a.XiaoMiChannelID === 'string' && a.XiaoMiChannelID) f.set('extra.channel_id', a.XiaoMiChannelID);
  // a ringtone from the app's res/raw, named without suffix as Tencent's AndroidInfo.Sound is (§6.2 extra.sound_uri)
  if (typeof a.Sound === 'string' && /^[a-z0-9_]+$/.test(a.Sound)) f.set('extra.sound_uri', `android.resource://${c.packageName}/raw/${a.Sound}`);
  if (ctx.receiptUrl) {
    // receipts for arrivals and for invalid targets, the only way MiPush reports dead regIds (§6.3)
    f.set('extra.callback', ctx.receiptUrl);
    f.set('extra.callback.param', message.taskId);
    f.set('extra.callback.type', String(RECEIPT_DELIVERED | RECEIPT_INVALID_TARGET));
  }
  return f;
}

/** Receipt kinds, a bit mask in `extra.callback.type` and the `type` of each receipt. */
const RECEIPT_DELIVERED = 1;
const RECEIPT_INVALID_TARGET = 16;

/**
 * A MiPush receipt: a form whose `data` field is JSON keyed by Xiaomi's message id, each entry with
 * our `param` (the TaskId), its `type` and the comma-separated regIds in `targets`.
 */
function receipts(body: Buffer): ReceiptEvent[] {
  const data = new URLSearchParams(body.toString()).get('data');
  if (!data) throw new Error('no data field');
  const out: ReceiptEvent[] = [];
  for (const entry of Object.values(JSON.parse(data) as Record<string, { param?: string; type?: number; targets?: string }>)) {
    if (!entry.param) continue;
    const targets = (entry.targets ?? '').split(',').filter(Boolean);
    // per regId, so each arrival is kept for the device's message link and told to the app
    if (entry.type === RECEIPT_DELIVERED) for (const token of targets) out.push({ taskId: entry.param, token, outcome: 'reached' });
    else if (entry.type === RECEIPT_INVALID_TARGET) for (const token of targets) out.push({ taskId: entry.param, token, outcome: 'dead', code: RECEIPT_INVALID_TARGET, info: 'invalid target' });
  }
  return out;
}

/** A MiPush answer, `{code, description, reason}` (or the HTTP status when the body is not JSON). */
async function answerOf(res: VendorResponse): Promise<{ code: number; info: string }> {
  const r = (await res.json().catch(() => ({ code: res.status, description: res.statusText }))) as { code?: unknown; description?: string; reason?: string };
  return { code: Number(r.code ?? -1), info: r.reason ?? r.description ?? 'refused' };
}

/**
 * Asks MiPush for today's message counters of the certificate's package (`GET
 * /v1/stats/message/counters`, Xiaomi's server SDK): it notifies no one, and MiPush answers it only
 * for a valid AppSecret and a package name of that app.
 */
async function check(config: Record<string, unknown>): Promise<CertificateCheck> {
  const c = config as unknown as XiaomiConfig;
  const day = chinaDay();
  const query = new URLSearchParams({ start_date: day, end_date: day, restricted_package_name: c.packageName });
  return checked(async () => {
    const { code, info } = await answerOf(await httpGet(`${c.baseUrl ?? HOST}/v1/stats/message/counters?${query}`, { authorization: `key=${c.appSecret}` }));
    if (code === 0) return { ok: true, info: `MiPush took the AppSecret and package ${c.packageName}` };
    return { ok: false, code, info: CERTIFICATE.has(code) ? `${info}: ${CHECK_CERTIFICATE}` : info };
  }, CHECK_CERTIFICATE);
}

/** Xiaomi MiPush v3 `message/regid`: devices batched by language, their regIds listed in one call. */
export const xiaomiAdapter: VendorAdapter = {
  receipts,
  check,
  // the v3 revoke parameters are not public (vendor-protocols.md §12): overwrite by notify_id instead
  recall: (config, r) => overwriteRecall(xiaomiAdapter)(config, r),
  async send(config, message, targets, ctx): Promise<VendorResult[]> {
    const c = config as unknown as XiaomiConfig;
    const ttlMs = Math.max(0, message.expiresAt - Date.now());
    const out: VendorResult[] = [];
    for (const part of batchesByLanguage(message, targets, MAX_REGIDS)) {
      out.push(...(await sendBatch(c, form(c, message, part[0]!.locale, part.map((t) => t.token), ttlMs, ctx), part)));
    }
    return out;
  },
};

async function sendBatch(c: XiaomiConfig, body: URLSearchParams, part: readonly VendorTarget[]): Promise<VendorResult[]> {
  const all = (r: Parameters<typeof resultForAll>[1]) => resultForAll(part, r);
  return withRetries<VendorResult[]>(
    async () => {
      const res = await httpPost(`${c.baseUrl ?? HOST}/v3/message/regid`, { authorization: `key=${c.appSecret}`, 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' }, body.toString());
      const { code, info } = await answerOf(res);
      if (code === 0) return { done: all({ outcome: 'sent' }) };
      if (RETRY.has(code)) return { later: `${code} ${info}` };
      if (DAILY_QUOTA.has(code)) return { done: all({ outcome: 'failed', code, info, pauseMs: untilChinaMidnight() }) };
      if (CERTIFICATE.has(code)) return { done: all({ outcome: 'certificate', code, info: `${info}: ${CHECK_CERTIFICATE}` }) };
      // Xiaomi reports invalid regIds only through receipts (§6.3), so a refusal here clears no token.
      return { done: all({ outcome: 'failed', code, info }) };
    },
    (info, code) => all({ outcome: 'failed', code, info }),
  );
}
