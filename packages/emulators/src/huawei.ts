import crypto from 'node:crypto';
import http from 'node:http';
import { LoopbackEmulator } from './loopback.js';

/**
 * Huawei Push Kit (HMS Core v1) on loopback: the OAuth 2.0 client-credentials token endpoint and
 * `POST /v1/{clientId}/messages:send`. Checks the bearer token against the client it was issued to,
 * one target kind, 1–1,000 tokens, `click_action` on notifications, the TTL bound (15 days), the
 * `android` category list, urgency, importance, group and badge (class, 0–99), and the
 * 4,096-byte body limit without tokens; answers with Huawei's business codes in `{code,msg,requestId}`
 * (80100000 partial with `msg` `{"success", "failure", "illegal_tokens": [...]}`, 80300007 all tokens
 * invalid, 80300002 an app that may not push, 80200003 token expired, …: HMS Core server API,
 * "Sending Messages", result codes).
 * `deliverReceipts` posts version-1 receipts `{statuses:[{biTag, appid, token, status, timestamp,
 * requestId}]}`, at most 100 a post, as Push Kit does to the address set in AppGallery Connect.
 * Written from vendor-protocols.md §3 and Huawei's receipt API page; it shares no code with Herald's channel.
 */
export interface HuaweiReceived {
  clientId: string;
  tokens: string[];
  message: Record<string, unknown>;
  requestId: string;
  receivedAt: number;
}

/** Push Kit's receipt transport, HMS and HarmonyOS alike: `{statuses}` posts of at most 100; the HTTP status of each. */
export async function postReceipts(url: string, statuses: readonly object[]): Promise<number[]> {
  const answers: number[] = [];
  for (let i = 0; i < statuses.length; i += 100) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statuses: statuses.slice(i, i + 100) }) });
    await res.arrayBuffer();
    answers.push(res.status);
  }
  return answers;
}

/** `android.category` values after self-classification approval (§3.2). */
const CATEGORIES = new Set(['IM', 'VOIP', 'SUBSCRIPTION', 'TRAVEL', 'HEALTH', 'WORK', 'ACCOUNT', 'EXPRESS', 'FINANCE', 'DEVICE_REMINDER', 'MAIL', 'PLAY_VOICE', 'MARKETING']);

/** The `android` fields §3.2 constrains; why they are refused, if they are. */
function androidError(a: (Record<string, any> & { notification?: Record<string, any> }) | undefined): string | undefined {
  if (!a) return undefined;
  if (a.category !== undefined && !CATEGORIES.has(a.category)) return 'android.category';
  if (a.urgency !== undefined && a.urgency !== 'HIGH' && a.urgency !== 'NORMAL') return 'android.urgency';
  const n = a.notification;
  if (!n) return undefined;
  if (n.importance !== undefined && n.importance !== 'LOW' && n.importance !== 'NORMAL') return 'notification.importance';
  if (n.group !== undefined && (typeof n.group !== 'string' || !n.group)) return 'notification.group';
  if (n.badge !== undefined) {
    const { add_num: add, set_num: set, class: cls } = n.badge as { add_num?: unknown; set_num?: unknown; class?: unknown };
    const inRange = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= 99;
    if (typeof cls !== 'string' || !cls || (add !== undefined && !inRange(add, 1)) || (set !== undefined && !inRange(set, 0))) return 'notification.badge';
  }
  return undefined;
}

export class HuaweiEmulator extends LoopbackEmulator {
  /** When each injected failure was answered. */
  readonly rejected: number[] = [];
  private failures: { status: number; code: string; retryAfter?: number }[] = [];
  readonly received: HuaweiReceived[] = [];
  readonly tokenRequests: string[] = [];
  private clients = new Map<string, string>();
  private accessTokens = new Map<string, { clientId: string; until: number }>();
  private invalid = new Set<string>();
  /** Apps whose Push Kit is not enabled in AppGallery Connect. */
  private disabled = new Set<string>();

  /** An app registered in AppGallery Connect: its OAuth client id and secret. */
  app(): { clientId: string; clientSecret: string } {
    const clientId = String(100_000_000 + crypto.randomInt(900_000_000));
    const clientSecret = crypto.randomBytes(32).toString('hex');
    this.clients.set(clientId, clientSecret);
    return { clientId, clientSecret };
  }

  /** Push Kit is switched off for this app in AppGallery Connect: its sends are refused with 80300002 until `enablePush`. */
  disablePush(clientId: string): void {
    this.disabled.add(clientId);
  }

  enablePush(clientId: string): void {
    this.disabled.delete(clientId);
  }

  /** The app was uninstalled: this push token is illegal from now on. */
  invalidate(token: string): void {
    this.invalid.add(token);
  }

  /**
   * Posts receipts for every token received so far to `url`: status 0 (delivered) unless `statuses`
   * names another for a token (2 app not installed, 5 token not on the device, 6 notifications off, …).
   */
  async deliverReceipts(url: string, statuses: Record<string, number> = {}): Promise<number[]> {
    const all = this.received.flatMap((r) => {
      const biTag = String((r.message.android as { bi_tag?: string } | undefined)?.bi_tag ?? '');
      return r.tokens.map((token) => ({ biTag, appid: r.clientId, token, status: statuses[token] ?? 0, timestamp: Date.now(), requestId: r.requestId }));
    });
    return postReceipts(url, all);
  }

  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) t.until = 0;
  }

  /** The next send is answered with this HTTP status and Huawei code (e.g. 503 flow control), with Retry-After if given. */
  failNext(status: number, code: string, retryAfter?: number): void {
    this.failures.push({ status, code, retryAfter });
  }

  private reply(res: http.ServerResponse, status: number, code: string, msg: string, requestId = crypto.randomBytes(8).toString('hex')): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify({ code, msg, requestId }));
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
    const body = raw.toString();
    if (req.method === 'POST' && req.url === '/oauth2/v3/token') {
      const f = new URLSearchParams(body);
      const id = f.get('client_id') ?? '';
      this.tokenRequests.push(id);
      if (f.get('grant_type') !== 'client_credentials' || !this.clients.has(id) || this.clients.get(id) !== f.get('client_secret')) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: 1101, error_description: 'invalid client' }));
      }
      const token = crypto.randomBytes(24).toString('base64');
      this.accessTokens.set(token, { clientId: id, until: Date.now() + 3600_000 });
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ access_token: token, expires_in: 3600, token_type: 'Bearer' }));
    }
    const m = /^\/v1\/([^/]+)\/messages:send$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return this.reply(res, 404, '80100001', 'bad URI');
    const clientId = m[1]!;
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const at = bearer ? this.accessTokens.get(bearer) : undefined;
    if (!at || at.clientId !== clientId) return this.reply(res, 401, '80200001', 'Oauth authentication error');
    if (at.until < Date.now()) return this.reply(res, 401, '80200003', 'Oauth Token expired');
    if (this.disabled.has(clientId)) return this.reply(res, 403, '80300002', 'No permission to send message to these tmIDs');
    const injected = this.failures.shift();
    if (injected) {
      if (injected.retryAfter !== undefined) res.setHeader('retry-after', String(injected.retryAfter));
      this.rejected.push(Date.now());
      return this.reply(res, injected.status, injected.code, 'injected');
    }
    let parsed: { message?: { token?: unknown; topic?: string; condition?: string; data?: unknown; android?: Record<string, any> & { ttl?: string; notification?: Record<string, any> } } };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return this.reply(res, 400, '80100003', 'Illegal payload');
    }
    const msg = parsed.message;
    if (!msg || [msg.token, msg.topic, msg.condition].filter((x) => x !== undefined).length !== 1) return this.reply(res, 400, '80100003', 'exactly one of token, topic, condition');
    const tokens = msg.token;
    if (!Array.isArray(tokens) || tokens.length === 0 || tokens.some((t) => typeof t !== 'string')) return this.reply(res, 400, '80100001', 'token must be an array of strings');
    if (tokens.length > 1000) return this.reply(res, 400, '80300010', 'The number of tokens exceeds the limit');
    if (Buffer.byteLength(JSON.stringify({ ...parsed, message: { ...msg, token: [] } })) > 4096) return this.reply(res, 400, '80300008', 'The message body size exceeds the default value');
    const ttl = msg.android?.ttl;
    if (ttl !== undefined && (!/^\d+(\.\d+)?s$/.test(ttl) || parseFloat(ttl) > 1_296_000)) return this.reply(res, 400, '80100001', 'ttl');
    if (msg.android?.notification && !msg.android.notification.click_action) return this.reply(res, 400, '80100001', 'click_action is required');
    const bad = androidError(msg.android);
    if (bad) return this.reply(res, 400, '80100001', bad);
    if (msg.data !== undefined && typeof msg.data !== 'string') return this.reply(res, 400, '80100001', 'data must be a string');
    const illegal = (tokens as string[]).filter((t) => this.invalid.has(t));
    const ok = (tokens as string[]).filter((t) => !this.invalid.has(t));
    if (ok.length === 0) return this.reply(res, 400, '80300007', 'All the tokens are invalid');
    const requestId = crypto.randomBytes(8).toString('hex');
    this.received.push({ clientId, tokens: ok, message: msg as Record<string, unknown>, requestId, receivedAt: Date.now() });
    if (illegal.length > 0) return this.reply(res, 200, '80100000', JSON.stringify({ success: ok.length, failure: illegal.length, illegal_tokens: illegal }), requestId);
    this.reply(res, 200, '80000000', 'Success', requestId);
  }
}
