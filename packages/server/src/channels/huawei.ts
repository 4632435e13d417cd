import { batchesByLanguage, resultForAll, type VendorAdapter, type VendorMessage, type VendorResult, type VendorTarget } from './vendor.js';
import { truncateUtf16 } from './truncate.js';
import { withRetries } from './retry.js';
import { AccessTokens, tokenRequest } from './access-tokens.js';

const TOKEN_URL = 'https://oauth-login.cloud.huawei.com/oauth2/v3/token';
const PUSH_HOST = 'https://push-api.cloud.huawei.com';
/** Huawei takes up to 1,000 tokens per request (vendor-protocols.md §3.4). */
const MAX_TOKENS = 1000;
/** Huawei's title and text limits, in Tencent's table (reference §2.8). */
const TITLE_MAX = 60;
const BODY_MAX = 600;
/** android.ttl may not exceed 15 days (§3.2). */
const MAX_TTL = 1_296_000;

interface HuaweiConfig {
  clientId: string;
  clientSecret: string;
  baseUrl?: string;
  tokenUrl?: string;
}

/** OAuth 2.0 client-credentials tokens per client (§3.1). */
const tokens = new AccessTokens();

function accessToken(c: HuaweiConfig, fresh: boolean): Promise<string> {
  const url = c.tokenUrl ?? TOKEN_URL;
  return tokens.get(`${url} ${c.clientId}`, fresh, () => tokenRequest(url, { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }, 'Huawei'));
}

/** One request's message for devices that share a language: Huawei sends one payload to many tokens. */
function messageFor(message: VendorMessage, locale: string | null, tokenList: string[], ttl: number): Record<string, unknown> {
  const m = message.render(locale);
  const a = (m.info.AndroidInfo ?? {}) as Record<string, unknown>;
  const title = truncateUtf16(m.title, TITLE_MAX);
  const body = truncateUtf16(m.desc, BODY_MAX);
  const notification: Record<string, unknown> = { title, body, click_action: { type: 3 }, tag: message.taskId.slice(-64) };
  if (typeof a.HuaWeiChannelID === 'string' && a.HuaWeiChannelID) notification.channel_id = a.HuaWeiChannelID;
  if (a.HuaWeiImportance === 'LOW' || a.HuaWeiImportance === 'NORMAL') notification.importance = a.HuaWeiImportance;
  if (typeof a.HuaWeiImage === 'string' && a.HuaWeiImage) notification.image = a.HuaWeiImage;
  if (typeof a.Sound === 'string' && a.Sound) notification.sound = `/raw/${a.Sound}`;
  const android: Record<string, unknown> = { ttl: `${Math.min(ttl, MAX_TTL)}s`, notification };
  if (typeof a.HuaWeiCategory === 'string' && a.HuaWeiCategory) android.category = a.HuaWeiCategory;
  return {
    validate_only: false,
    message: { token: tokenList, data: JSON.stringify({ id: message.taskId, ...(m.ext !== undefined ? { ext: m.ext } : {}) }), android },
  };
}

/** Huawei Push Kit v1: devices batched by language, up to 1,000 tokens a request. */
export const huaweiAdapter: VendorAdapter = {
  async send(config, message, targets): Promise<VendorResult[]> {
    const c = config as unknown as HuaweiConfig;
    const url = `${c.baseUrl ?? PUSH_HOST}/v1/${encodeURIComponent(c.clientId)}/messages:send`;
    const ttl = Math.max(0, Math.floor((message.expiresAt - Date.now()) / 1000));
    const out: VendorResult[] = [];
    for (const part of batchesByLanguage(message, targets, MAX_TOKENS)) {
      out.push(...(await sendBatch(c, url, messageFor(message, part[0]!.locale, part.map((t) => t.token), ttl), part)));
    }
    return out;
  },
};

async function sendBatch(c: HuaweiConfig, url: string, body: Record<string, unknown>, part: readonly VendorTarget[]): Promise<VendorResult[]> {
  const all = (r: Parameters<typeof resultForAll>[1]) => resultForAll(part, r);
  return withRetries<VendorResult[]>(
    async (fresh) => {
      const token = await accessToken(c, fresh);
      const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json;charset=UTF-8' }, body: JSON.stringify(body) });
      const r = (await res.json().catch(() => ({}))) as { code?: string; msg?: string };
      const code = Number(r.code ?? res.status);
      // §3.3: 80000000 success; 80100000 partial with illegal_tokens; 80300007 every token invalid
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
      if (r.code === '80200003' || r.code === '80200001' || res.status === 401) return { auth: `${code} ${r.msg ?? ''}` };
      // 502 and 503 (flow control): slow down and retry, a bounded number of times
      if (res.status >= 500) return { later: `${code} ${r.msg ?? res.statusText}`, retryAfter: res.headers.get('retry-after') };
      return { done: all({ outcome: 'failed', code, info: r.msg ?? res.statusText }) };
    },
    (info, code) => all({ outcome: 'failed', code, info }),
  );
}
