import crypto from 'node:crypto';
import type http from 'node:http';
import { LoopbackEmulator } from './loopback.js';

/**
 * OPPO Push (HeyTap) on loopback: `POST /server/v1/auth` (SHA-256 sign of AppKey + timestamp +
 * MasterSecret, 13-digit ms timestamp within 10 minutes) and `POST
 * /server/v1/message/notification/unicast_batch` (form `auth_token`, `messages` = JSON array of at most
 * 1,000). Checks every message as the field table says (snake_case; `call_back_parameter` at most
 * 50 characters as OPPO's server SDK validates it), answers in OPPO's `{code, message, data}` shape
 * with per-message `errorCode`/`errorMessage` and the return codes of OPPO's table (14 invalid
 * AppKey, 16 invalid signature, 19 invalid timestamp, 11/29 auth_token), and posts OPPO's receipt
 * arrays to `call_back_url`. An app on OPPO's message classification (`app({ categoryRequired })`)
 * has every message without a `category` refused. Written from vendor-protocols.md §7; it shares
 * no code with Herald's channel.
 */
export interface OppoReceived {
  appKey: string;
  /** registration ids in the request, in order */
  regIds: string[];
  /** the notification of the first message (one batch shares one language) */
  notification: Record<string, unknown>;
  messages: Record<string, unknown>[];
}

interface OppoApp {
  appId: string;
  masterSecret: string;
  categoryRequired: boolean;
}

const CATEGORIES = new Set(['IM', 'ACCOUNT', 'TODO', 'DEVICE_REMINDER', 'ORDER', 'SUBSCRIPTION', 'NEWS', 'CONTENT', 'MARKETING', 'SOCIAL']);
/** OPPO counts every character as one, emoji included. */
const chars = (s: string) => [...s].length;

export class OppoEmulator extends LoopbackEmulator {
  readonly received: OppoReceived[] = [];
  /** AppKeys of the auth requests answered with a token. */
  readonly authRequests: string[] = [];
  private apps = new Map<string, OppoApp>();
  private tokens = new Map<string, { appKey: string; until: number }>();
  private invalid = new Set<string>();
  private failures: number[] = [];
  private pendingReceipts: { url: string; param: string; appId: string; messageId: string; regId: string }[] = [];

  /**
   * An app on the OPPO push platform: its AppKey and MasterSecret. `categoryRequired`: the app is on
   * OPPO's message classification (every app enabled since 2024-11-20), so each message must name
   * its `category`.
   */
  app(opts: { categoryRequired?: boolean } = {}): { appKey: string; masterSecret: string } {
    const appKey = crypto.randomBytes(16).toString('hex');
    const masterSecret = crypto.randomBytes(16).toString('hex');
    this.apps.set(appKey, { appId: String(30_000_000 + crypto.randomInt(1_000_000)), masterSecret, categoryRequired: opts.categoryRequired === true });
    return { appKey, masterSecret };
  }

  /** The next send is answered with this code (§7.3), e.g. -2 flow control or 33 daily quota. */
  failNext(code: number): void {
    this.failures.push(code);
  }

  /** The app was uninstalled: sends to this registration_id answer 10000 from now on. */
  invalidate(regId: string): void {
    this.invalid.add(regId);
  }

  /** Every auth_token issued so far stops working, as after its 24 hours. */
  expireTokens(): void {
    for (const t of this.tokens.values()) t.until = 0;
  }

  /** Posts the receipts owed so far, one JSON array per callback URL; resolves once all are answered. */
  async deliverReceipts(): Promise<number> {
    const owed = this.pendingReceipts.splice(0);
    const byUrl = new Map<string, typeof owed>();
    for (const r of owed) byUrl.set(r.url, [...(byUrl.get(r.url) ?? []), r]);
    await Promise.all(
      [...byUrl].map(([url, list]) => {
        // a single-push receipt carries the message id as its taskId; eventType values were not captured, so none is sent
        const body = list.map((r) => ({ messageId: r.messageId, appId: r.appId, taskId: r.messageId, registrationIds: r.regId, eventTime: String(Date.now()), param: r.param }));
        return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((res) => res.arrayBuffer());
      }),
    );
    return owed.length;
  }

  private reply(res: http.ServerResponse, code: number, message: string, data?: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify({ code, message, ...(data !== undefined ? { data } : {}) }));
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const f = new URLSearchParams(raw.toString());
    if (req.method === 'POST' && req.url === '/server/v1/auth') return this.auth(res, f);
    if (req.method === 'POST' && req.url === '/server/v1/message/notification/unicast_batch') return this.unicastBatch(res, f);
    res.writeHead(404);
    res.end();
  }

  private auth(res: http.ServerResponse, f: URLSearchParams): void {
    const appKey = f.get('app_key') ?? '';
    const timestamp = f.get('timestamp') ?? '';
    const app = this.apps.get(appKey);
    // OPPO's return codes: 14 Invalid App Key, 19 Invalid Timestamp, 16 Invalid Signature
    if (!app) return this.reply(res, 14, 'Invalid App Key');
    if (!/^\d{13}$/.test(timestamp) || Math.abs(Date.now() - Number(timestamp)) > 600_000) return this.reply(res, 19, 'Invalid Timestamp');
    const expected = crypto.createHash('sha256').update(`${appKey}${timestamp}${app.masterSecret}`).digest('hex');
    if (f.get('sign') !== expected) return this.reply(res, 16, 'Invalid Signature');
    const token = crypto.randomUUID();
    this.tokens.set(token, { appKey, until: Date.now() + 86_400_000 });
    this.authRequests.push(appKey);
    this.reply(res, 0, 'success', { auth_token: token, create_time: Date.now() });
  }

  private unicastBatch(res: http.ServerResponse, f: URLSearchParams): void {
    const token = f.get('auth_token');
    if (!token) return this.reply(res, 29, 'auth_token missing');
    const t = this.tokens.get(token);
    if (!t || t.until < Date.now()) return this.reply(res, 11, 'invalid auth_token');
    const injected = this.failures.shift();
    if (injected !== undefined) return this.reply(res, injected, 'injected');
    let messages: unknown;
    try {
      messages = JSON.parse(f.get('messages') ?? '');
    } catch {
      return this.reply(res, 41, 'messages is not JSON');
    }
    if (!Array.isArray(messages) || messages.length === 0) return this.reply(res, 40, 'messages missing');
    if (messages.length > 1000) return this.reply(res, 41, 'at most 1000 messages');
    const app = this.apps.get(t.appKey)!;
    for (const m of messages as Record<string, unknown>[]) {
      const problem = this.check(m, app);
      if (problem) return this.reply(res, problem.code, problem.message);
    }
    const list = messages as { target_value: string; notification: Record<string, unknown> }[];
    const data = list.map((m) => {
      if (this.invalid.has(m.target_value)) return { registrationId: m.target_value, errorCode: 10000, errorMessage: 'Invalid RegistrationId' };
      const messageId = `${app.appId}-1-1-${crypto.randomBytes(8).toString('hex')}`;
      const url = m.notification.call_back_url;
      if (typeof url === 'string') this.pendingReceipts.push({ url, param: String(m.notification.call_back_parameter ?? ''), appId: app.appId, messageId, regId: m.target_value });
      return { messageId, registrationId: m.target_value };
    });
    const ok = list.filter((m) => !this.invalid.has(m.target_value));
    if (ok.length > 0) this.received.push({ appKey: t.appKey, regIds: ok.map((m) => m.target_value), notification: ok[0]!.notification, messages: ok as unknown as Record<string, unknown>[] });
    this.reply(res, 0, 'Success', data);
  }

  /** One message against the field table of §7.2 (40 missing, 41 invalid, 67 category/notify_level). */
  private check(m: Record<string, unknown>, app: OppoApp): { code: number; message: string } | undefined {
    if (m.target_type !== 2 && m.target_type !== 5) return { code: 41, message: 'target_type' };
    if (typeof m.target_value !== 'string' || !m.target_value) return { code: 40, message: 'target_value' };
    const n = m.notification as Record<string, unknown> | undefined;
    if (!n || typeof n !== 'object') return { code: 40, message: 'notification' };
    if (typeof n.title !== 'string' || !n.title || chars(n.title) > 50) return { code: 41, message: 'title: 1 to 50 characters' };
    const contentMax = n.style === 2 ? 128 : 50;
    if (typeof n.content !== 'string' || !n.content || chars(n.content) > contentMax) return { code: 41, message: `content: 1 to ${contentMax} characters` };
    if (n.style !== undefined && n.style !== 1 && n.style !== 2 && n.style !== 3) return { code: 41, message: 'style' };
    const click = n.click_action_type ?? 0;
    if (typeof click !== 'number' || click < 0 || click > 5) return { code: 41, message: 'click_action_type' };
    if (n.action_parameters !== undefined) {
      if (typeof n.action_parameters !== 'string' || n.action_parameters.length > 4000) return { code: 41, message: 'action_parameters' };
      try {
        JSON.parse(n.action_parameters);
      } catch {
        return { code: 41, message: 'action_parameters must be JSON' };
      }
    }
    const ttl = n.off_line_ttl;
    if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 864_000)) return { code: 41, message: 'off_line_ttl' };
    if (n.category !== undefined && !CATEGORIES.has(String(n.category))) return { code: 67, message: 'category' };
    // OPPO's code for a missing category was not found; 67 is its code for category errors
    if (n.category === undefined && app.categoryRequired) return { code: 67, message: 'category required' };
    if (n.notify_level !== undefined && (n.category === undefined || ![1, 2, 16].includes(Number(n.notify_level)))) return { code: 67, message: 'notify_level' };
    if (n.call_back_url !== undefined && (typeof n.call_back_url !== 'string' || n.call_back_url.length > 200)) return { code: 41, message: 'call_back_url' };
    if (n.call_back_parameter !== undefined && chars(String(n.call_back_parameter)) > 50) return { code: 41, message: 'call_back_parameter: at most 50 characters' };
    return undefined;
  }
}
