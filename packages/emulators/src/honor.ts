import crypto from 'node:crypto';
import type http from 'node:http';
import { LoopbackEmulator } from './loopback.js';

/**
 * Honor Push on loopback: the OAuth 2.0 client-credentials token endpoint `POST /auth/token` and
 * `POST /api/v1/{appId}/sendMessage`. Checks the bearer token against the app it was issued for,
 * the `timestamp` header, the camelCase body (tokens, `android.notification` title and body within
 * Tencent's HONOR limits 50/400, `clickAction.type` 1–3, importance, style, ttl ≤ 15 days), and
 * answers `{code, message, data: {sendResult, requestId, failTokens, expireTokens}}`; an
 * invalidated token comes back in `expireTokens`. Success is `code` 200 in the body, and a refused
 * request is answered in an HTTP 200 too, with another `code` and `sendResult` false
 * (vendor-protocols.md, corrections): only a refused access token (401) and injected failures
 * change the HTTP status. Honor's code table was not found (§12), so a refusal's `code` here is the
 * HTTP status it stands for (400 a bad body): an assumption of this fake that Herald does not rely
 * on. Honor's receipt format was not found either, so nothing posts receipts. Written from
 * vendor-protocols.md §5; it shares no code with Herald's channel.
 */
export interface HonorReceived {
  appId: string;
  tokens: string[];
  body: Record<string, unknown>;
  timestamp: string;
}

export class HonorEmulator extends LoopbackEmulator {
  readonly received: HonorReceived[] = [];
  readonly tokenRequests: string[] = [];
  private clients = new Map<string, { secret: string; appId: string }>();
  private accessTokens = new Map<string, { appId: string; until: number }>();
  private invalid = new Set<string>();
  private failures: { status: number; retryAfter?: number }[] = [];
  private refusals: { code: number; message: string }[] = [];

  /** An app on the Honor developer site: its app id and OAuth client. */
  app(): { appId: string; clientId: string; clientSecret: string } {
    const appId = String(100_000_000 + crypto.randomInt(900_000_000));
    const clientId = crypto.randomBytes(12).toString('hex');
    const clientSecret = crypto.randomBytes(32).toString('hex');
    this.clients.set(clientId, { secret: clientSecret, appId });
    return { appId, clientId, clientSecret };
  }

  /** The app was uninstalled: Honor reports this token in `expireTokens` from now on. */
  invalidate(token: string): void {
    this.invalid.add(token);
  }

  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) t.until = 0;
  }

  /** The next sendMessage is answered with this HTTP status (401, 429, 503, …). */
  failNext(status: number, retryAfter?: number): void {
    this.failures.push({ status, ...(retryAfter !== undefined ? { retryAfter } : {}) });
  }

  /** The next sendMessage is refused as Honor refuses a request: HTTP 200, this body `code`, `sendResult` false. */
  refuseNext(code: number, message = 'refused'): void {
    this.refusals.push({ code, message });
  }

  private reply(res: http.ServerResponse, status: number, message: string, data?: Record<string, unknown>, headers: Record<string, string> = {}, code = status): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    res.end(JSON.stringify({ code, message, ...(data ? { data } : {}) }));
  }

  /** A request Honor read and refused: HTTP 200, the verdict in `code`. */
  private refuse(res: http.ServerResponse, code: number, message: string): void {
    this.reply(res, 200, message, { sendResult: false, requestId: crypto.randomBytes(8).toString('hex') }, {}, code);
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    if (req.method === 'POST' && req.url === '/auth/token') return this.token(res, raw.toString());
    const m = /^\/api\/v1\/([^/]+)\/sendMessage$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return this.reply(res, 404, 'not found');
    const appId = m[1]!;
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const at = bearer ? this.accessTokens.get(bearer) : undefined;
    if (!at || at.appId !== appId || at.until < Date.now()) return this.reply(res, 401, 'access token invalid or expired');
    const timestamp = String(req.headers.timestamp ?? '');
    if (!/^\d{13}$/.test(timestamp)) return this.refuse(res, 400, 'timestamp header (ms) required');
    const injected = this.failures.shift();
    if (injected) return this.reply(res, injected.status, 'injected', undefined, injected.retryAfter !== undefined ? { 'retry-after': String(injected.retryAfter) } : {});
    const refusal = this.refusals.shift();
    if (refusal) return this.refuse(res, refusal.code, refusal.message);
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw.toString()) as Record<string, any>;
    } catch {
      return this.refuse(res, 400, 'illegal body');
    }
    const err = this.bodyError(body);
    if (err) return this.refuse(res, 400, err);
    const tokens = body.token as string[];
    const expireTokens = tokens.filter((t) => this.invalid.has(t));
    const ok = tokens.filter((t) => !this.invalid.has(t));
    if (ok.length > 0) this.received.push({ appId, tokens: ok, body, timestamp });
    this.reply(res, 200, 'success', { sendResult: ok.length > 0, requestId: crypto.randomBytes(8).toString('hex'), failTokens: [], expireTokens });
  }

  private token(res: http.ServerResponse, raw: string): void {
    const f = new URLSearchParams(raw);
    const id = f.get('client_id') ?? '';
    this.tokenRequests.push(id);
    const client = this.clients.get(id);
    if (f.get('grant_type') !== 'client_credentials' || !client || client.secret !== f.get('client_secret')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: 'invalid_client', error_description: 'invalid client' }));
    }
    const token = crypto.randomBytes(24).toString('base64url');
    this.accessTokens.set(token, { appId: client.appId, until: Date.now() + 3600_000 });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: token, expires_in: 3600, token_type: 'Bearer' }));
  }

  /** The body as §5 describes it; the reason it is refused, if it is. */
  private bodyError(b: Record<string, any>): string | undefined {
    if (!Array.isArray(b.token) || b.token.length === 0 || b.token.some((t: unknown) => typeof t !== 'string' || !t)) return 'token must be a non-empty array';
    if (b.data !== undefined && typeof b.data !== 'string') return 'data must be a string';
    const a = b.android as Record<string, any> | undefined;
    if (!a || typeof a !== 'object') return 'android is required';
    if (a.ttl !== undefined && (!/^\d+s$/.test(String(a.ttl)) || parseInt(a.ttl, 10) > 1_296_000)) return 'android.ttl';
    if (a.targetUserType !== undefined && a.targetUserType !== 0 && a.targetUserType !== 1) return 'android.targetUserType';
    const n = a.notification as Record<string, any> | undefined;
    if (!n) return 'android.notification is required';
    if (typeof n.title !== 'string' || !n.title || n.title.length > 50) return 'notification.title (1–50)';
    if (typeof n.body !== 'string' || !n.body || n.body.length > 400) return 'notification.body (1–400)';
    if (![1, 2, 3].includes(n.clickAction?.type)) return 'notification.clickAction.type';
    if (n.importance !== undefined && n.importance !== 'LOW' && n.importance !== 'NORMAL') return 'notification.importance';
    if (n.style !== undefined && n.style !== 0 && n.style !== 1) return 'notification.style';
    if (n.style === 1 && (typeof n.bigTitle !== 'string' || typeof n.bigBody !== 'string')) return 'style 1 needs bigTitle and bigBody';
    if (n.notifyId !== undefined && !Number.isInteger(n.notifyId)) return 'notification.notifyId';
    if (n.badge !== undefined) {
      const { addNum, setNum, badgeClass } = n.badge as { addNum?: unknown; setNum?: unknown; badgeClass?: unknown };
      const inRange = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= 99;
      if (typeof badgeClass !== 'string' || !badgeClass || (addNum !== undefined && !inRange(addNum, 1)) || (setNum !== undefined && !inRange(setNum, 0))) return 'notification.badge';
    }
    return undefined;
  }
}
