import { batchesByLanguage, resultForAll, type CertificateCheck, type ReceiptEvent, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from '../vendor.js';
import { truncateUtf16 } from './truncate.js';
import { withRetries, type Answer } from '../net/retry.js';
import { AccessTokens } from '../net/access-tokens.js';
import { heraldPayload } from './push-data.js';
import { androidInfo, arrivals, idList, notifyIdOf, jsonOf, postForm, sha256Hex, text, tokenCheck, TokenRefused, ttlSeconds, untilChinaMidnight, overwritingAdapter, withToken, type SendOptions } from './china-vendors.js';

const HOST = 'https://api.push.oppomobile.com';
/** unicast_batch takes at most 1,000 messages (vendor-protocols.md §7.2). */
const MAX_BATCH = 1000;
/** Tencent's OPPO limits: title 50, content 50, or 128 for big text (PushStyle 1; reference §2.8). */
const TITLE_MAX = 50;
const CONTENT_MAX = 50;
const LONG_CONTENT_MAX = 128;
/** off_line_ttl is at most 10 days (§7.2). */
const MAX_TTL = 864_000;
/** action_parameters is JSON of at most 4,000 characters (§7.2). */
const PARAMS_MAX = 4000;
/** call_back_url is at most 200 characters (OPPO's receipt doc, id 11239). */
const CALLBACK_URL_MAX = 200;
/** call_back_parameter is at most 50 characters (OPPO's server SDK, opush-server-sdk Notification.validate). */
const CALLBACK_PARAM_MAX = 50;

/** §7.3: -1 service unavailable, -2 flow control, 13/55 call count or frequency limits: try again later. */
const LATER = new Set([-1, -2, 13, 55]);
/** §7.3: 11 invalid, 29 missing auth_token: sign a new one and resend once. */
const AUTH = new Set([11, 29]);
/**
 * §7.3: 10000 invalid registration_id. A certificate of another OPPO app gets it for every token
 * too, so it clears a token only when the certificate is known to work (SendContext) or another
 * message of the same request was taken.
 */
const INVALID_REGID = 10000;
/**
 * OPPO's return codes that refuse the app or its credentials, whatever the devices (OPPO,
 * "调用地址，公共参数和返回码"): 14 invalid AppKey, 15 missing AppKey, 16 invalid signature (a wrong
 * MasterSecret), 26 IP blacklisted, 27 access denied, 28 app disabled, 30 no API push permission.
 */
const CERTIFICATE = new Set([14, 15, 16, 26, 27, 28, 30]);
const CHECK_CERTIFICATE = "check the certificate's appKey and masterSecret, and the app's push permission on the OPPO push platform";
/** §7.3: 33 daily message quota exceeded, "stop for today": pause the certificate until the quota resets. */
const QUOTA = 33;

interface OppoConfig {
  appKey: string;
  masterSecret: string;
  /** The category of pushes that name none and are no chat or call (apps on OPPO's new classification must send one). */
  category?: string;
  baseUrl?: string;
}

/**
 * auth_token per AppKey and MasterSecret (a certificate given a new secret does not keep a token
 * of the old one); OPPO keeps one valid for 24 h (§7.1).
 */
const tokens = new AccessTokens();

function authToken(base: string, c: OppoConfig, fresh: boolean): Promise<string> {
  return tokens.get(`${base} ${c.appKey} ${sha256Hex(c.masterSecret)}`, fresh, async () => {
    // §7.1: sign = SHA-256 hex of AppKey + 13-digit ms timestamp + MasterSecret
    const timestamp = String(Date.now());
    const { body } = await postForm(`${base}/server/v1/auth`, { app_key: c.appKey, timestamp, sign: sha256Hex(c.appKey + timestamp + c.masterSecret) });
    const token = text((body.data as { auth_token?: unknown } | undefined)?.auth_token);
    if (body.code !== 0 || !token) throw new TokenRefused(typeof body.code === 'number' ? body.code : -1, `OPPO auth: ${String(body.message ?? 'no auth_token')}`);
    return { token, expiresIn: 86_400 };
  });
}

/**
 * The callback parameter that brings the TaskId back in OPPO's receipts, within its 50
 * characters. A TaskId can reach 54 (`batch_` and five hex fields): a longer one goes with its kind
 * word shortened to a letter and a `~`, which no TaskId holds, and `taskIdOf` restores it.
 */
const KIND_LETTERS: Record<string, string> = { batch: 'b', chat: 'm', call: 'c' };

function callbackParameter(taskId: string): string {
  if (taskId.length <= CALLBACK_PARAM_MAX) return taskId;
  const [kind, ...rest] = taskId.split('_');
  return `${KIND_LETTERS[kind!] ?? kind}~${rest.join('_')}`;
}

function taskIdOf(param: unknown): unknown {
  const m = typeof param === 'string' ? /^([a-z])~(.+)$/.exec(param) : null;
  const kind = m && Object.keys(KIND_LETTERS).find((k) => KIND_LETTERS[k] === m[1]);
  return kind ? `${kind}_${m[2]}` : param;
}

/** The notification of one language variant (§7.2 field table, snake_case as the doc writes it). */
function notification(c: OppoConfig, message: VendorMessage, locale: string | null, { receiptUrl, overwrite }: SendOptions): Record<string, unknown> {
  const m = message.render(locale);
  const a = androidInfo(m);
  const long = a.PushStyle === 1;
  const n: Record<string, unknown> = {
    // OPPO pushes a unicast with the same app_message_id to a target once: a retried request cannot
    // double a notification, and a recall's overwrite needs an id of its own to get through
    app_message_id: overwrite ? `${message.taskId}:recall` : message.taskId,
    style: long ? 2 : 1,
    title: truncateUtf16(m.title || ' ', TITLE_MAX),
    content: truncateUtf16(m.desc || ' ', long ? LONG_CONTENT_MAX : CONTENT_MAX),
    click_action_type: 0, // open the app; it reads Herald's payload from action_parameters
    action_parameters: JSON.stringify(heraldPayload(message.taskId, m, PARAMS_MAX)),
    off_line: true,
    off_line_ttl: ttlSeconds(message.expiresAt, 1, MAX_TTL),
    notify_id: notifyIdOf(message.taskId),
  };
  const channel = text(a.OPPOChannelID);
  if (channel) n.channel_id = channel;
  // A chat push or a call is an IM message (§7.2 categories); OPPO has no call category, so a call
  // also asks for the loudest notify_level, 16 (banner, vibration and ring). The push's own wins,
  // and the certificate's names the rest: apps on OPPO's message classification of 2024-11-20
  // must categorise every message (vendor quota summary, reference [H7]).
  const category = text(a.OPPOCategory) ?? (m.chat || m.call ? 'IM' : text(c.category));
  if (category) {
    n.category = category;
    // notify_level requires a category (§7.2; Tencent: "needs OPPOCategory", reference §3.3)
    const level = a.OPPONotifyLevel ?? (m.call && !text(a.OPPOCategory) ? 16 : undefined);
    if (level !== undefined) n.notify_level = level;
  }
  const template = text(a.OPPOPrivateMsgTemplateId);
  if (template) {
    n.private_msg_template_id = template;
    if (a.OPPOPrivateTitleParameters) n.private_title_parameters = JSON.stringify(a.OPPOPrivateTitleParameters);
    if (a.OPPOPrivateContentParameters) n.private_content_parameters = JSON.stringify(a.OPPOPrivateContentParameters);
  }
  if (receiptUrl) {
    n.call_back_url = receiptUrl;
    n.call_back_parameter = callbackParameter(message.taskId); // comes back as `param` in each receipt
  }
  return n;
}

async function sendAll(c: OppoConfig, message: VendorMessage, targets: readonly VendorTarget[], opts: SendOptions): Promise<VendorResult[]> {
  const out: VendorResult[] = [];
  for (const part of batchesByLanguage(message, targets, MAX_BATCH)) {
    const n = notification(c, message, part[0]!.locale, opts);
    // target_type 2: registration_id; verify_registration_id: a device whose id changed drops it (§7.2)
    const messages = part.map((t) => ({ target_type: 2, target_value: t.token, verify_registration_id: true, notification: n }));
    out.push(...(await sendBatch(c, JSON.stringify(messages), part, opts.proven)));
  }
  return out;
}

/** An auth_token is issued only for a known AppKey signed with its MasterSecret (§7.1): nothing is sent. */
function check(config: Record<string, unknown>): Promise<CertificateCheck> {
  const c = config as unknown as OppoConfig;
  return tokenCheck(() => authToken(c.baseUrl ?? HOST, c, true), `OPPO issued an auth_token for AppKey ${c.appKey}`, CHECK_CERTIFICATE);
}

/**
 * OPPO Push: devices batched by language, one unicast_batch of up to 1,000 messages per batch.
 * Recall: no OPPO revoke API was found (vendor-protocols.md §7.4, §12); the replacement is sent
 * with the same notify_id, which replaces the notification on the device.
 */
export const oppoAdapter: VendorAdapter = overwritingAdapter((config, message, targets, opts) => sendAll(config as unknown as OppoConfig, message, targets, opts), CALLBACK_URL_MAX, receipts, check);

/**
 * OPPO posts JSON arrays of `{messageId, appId, taskId, registrationIds, eventTime, param, eventType}`
 * once the message reached the devices (OPPO's receipt doc, id 11239). Every entry is a delivery;
 * the list of eventType values was not captured, so it is not read.
 */
function receipts(body: Buffer): ReceiptEvent[] {
  const list = jsonOf(body.toString('utf8'));
  return Array.isArray(list) ? (list as { param?: unknown; registrationIds?: unknown }[]).flatMap((r) => arrivals(taskIdOf(r?.param), idList(r?.registrationIds))) : [];
}

interface BatchItem {
  registrationId?: string;
  errorCode?: number;
  errorMessage?: string;
}

async function sendBatch(c: OppoConfig, messages: string, part: readonly VendorTarget[], proven: boolean): Promise<VendorResult[]> {
  const base = c.baseUrl ?? HOST;
  const all = (r: Parameters<typeof resultForAll>[1]) => resultForAll(part, r);
  return withRetries<VendorResult[]>(
    (fresh) =>
      withToken(
        () => authToken(base, c, fresh),
        (err) => refusal(err.code, err.info, all),
        async (token): Promise<Answer<VendorResult[]>> => {
          // auth_token is a public parameter carried in the body (§7.1)
          const r = await postForm(`${base}/server/v1/message/notification/unicast_batch`, { auth_token: token, messages });
          const code = typeof r.body.code === 'number' ? r.body.code : r.status;
          const info = `${code} ${String(r.body.message ?? '')}`.trim();
          if (r.body.code === 0) return { done: perItem(part, r.body.data, proven) };
          if (AUTH.has(code)) return { auth: info };
          if (r.status >= 500) return { later: info, retryAfter: r.retryAfter };
          if (code === INVALID_REGID && proven) return { done: all({ outcome: 'dead', code, info: String(r.body.message ?? 'invalid registration_id') }) };
          return refusal(code, String(r.body.message || 'refused'), all, r.retryAfter);
        },
      ),
    (info, code) => all({ outcome: 'failed', code, info }),
  );
}

/** What an OPPO refusal of the request (or of the auth_token) means for its devices (§7.3). */
function refusal(code: number, info: string, all: (r: Parameters<typeof resultForAll>[1]) => VendorResult[], retryAfter: string | null = null): Answer<VendorResult[]> {
  if (LATER.has(code)) return { later: `${code} ${info}`, retryAfter };
  if (code === QUOTA) return { done: all({ outcome: 'failed', code, info, pauseMs: untilChinaMidnight() }) };
  if (CERTIFICATE.has(code)) return { done: all({ outcome: 'certificate', code, info: `${info}: ${CHECK_CERTIFICATE}` }) };
  return { done: all({ outcome: 'failed', code, info }) };
}

/**
 * unicast_batch answers per message in `data[]` with `errorCode`/`errorMessage` (§7.2). The
 * reference does not say how an item names its message: one that names a registrationId is matched
 * by it, otherwise items are taken in the order of the request. An item taken shows the
 * certificate works, so the invalid registration_ids beside it are dead.
 */
function perItem(part: readonly VendorTarget[], data: unknown, proven: boolean): VendorResult[] {
  const items = Array.isArray(data) ? (data as BatchItem[]) : [];
  const byToken = new Map(items.filter((x) => typeof x?.registrationId === 'string').map((x) => [x.registrationId!, x]));
  const itemOf = (t: VendorTarget, i: number) => (byToken.size > 0 ? byToken.get(t.token) : items[i]);
  const works = proven || part.some((t, i) => !Number(itemOf(t, i)?.errorCode ?? 0));
  return part.map((t, i): VendorResult => {
    const item = itemOf(t, i);
    const code = Number(item?.errorCode ?? 0);
    if (!code) return { registrationId: t.registrationId, outcome: 'sent' };
    const info = item?.errorMessage ?? 'refused';
    return { registrationId: t.registrationId, outcome: code === INVALID_REGID && works ? 'dead' : 'failed', code, info };
  });
}
