import crypto from 'node:crypto';
import type http from 'node:http';
import { LoopbackEmulator } from './loopback.js';

/**
 * vivo Push on loopback: `POST /message/auth` (lower-case MD5 of appId + appKey + timestamp +
 * appSecret, timestamp within 10 minutes), `POST /message/send`, `/message/saveListPayload` and
 * `/message/pushToList` with the `authToken` header. Checks the token's appId against the body's
 * (10094), title ≤ 20 and content ≤ 50 Chinese characters where a Chinese character counts as two
 * ASCII ones (≤ 40 / ≤ 100 of that count), timeToLive 60 s–7 days, upper-case category (10096),
 * clientCustomMap ≤ 1,024 characters, and answers `{result, desc, taskId, invalidUser(s)}`.
 * Written from vendor-protocols.md §8 and its corrections (vivo push API, "send single
 * notification"); it shares no code with Herald's channel.
 */
export interface VivoReceived {
  appId: string;
  regIds: string[];
  /** the message fields (from the single send, or the saved list payload) */
  message: Record<string, unknown>;
}

/**
 * vivo's codes for a bad sign and for an unknown or expired authToken are not in the stored
 * sources (vendor-protocols.md §8, §12); the emulator answers with this stand-in, which is no
 * documented vivo code.
 */
export const VIVO_AUTH_REFUSED = -1;
/** Likewise for a missing or malformed field: vivo's codes for those were not captured either. */
export const VIVO_BAD_FIELD = -2;

interface Payload {
  appId: string;
  message: Record<string, unknown>;
}

export class VivoEmulator extends LoopbackEmulator {
  readonly received: VivoReceived[] = [];
  readonly authRequests: string[] = [];
  private apps = new Map<string, { appKey: string; appSecret: string }>();
  private tokens = new Map<string, { appId: string; until: number }>();
  private payloads = new Map<string, Payload>();
  private invalid = new Map<string, number>();
  private failures: number[] = [];
  private pendingReceipts: { url: string; param: string; taskId: string; regId: string }[] = [];

  /** An app on the vivo open platform: its AppID, AppKey and AppSecret. */
  app(): { appId: string; appKey: string; appSecret: string } {
    const appId = String(100_000 + crypto.randomInt(900_000));
    const creds = { appKey: crypto.randomBytes(16).toString('hex'), appSecret: crypto.randomBytes(16).toString('hex') };
    this.apps.set(appId, creds);
    return { appId, ...creds };
  }

  /** The next push call (not auth) is answered with this result code, e.g. 10070 over quota. */
  failNext(code: number): void {
    this.failures.push(code);
  }

  /**
   * vivo reports this regId as an invalid user: status 1 it does not exist, 2 the app was
   * uninstalled or its notifications turned off, 3 not online for 90 days, 4 not a test user.
   */
  invalidate(regId: string, status = 2): void {
    this.invalid.set(regId, status);
  }

  /** Every authToken issued so far stops working, as after its day. */
  expireTokens(): void {
    for (const t of this.tokens.values()) t.until = 0;
  }

  /**
   * Posts the receipts owed for single sends that carried `extra.callback`. The body's shape is
   * not in §8; it follows public receiver code: `{<taskId>: {param, targets}}`.
   */
  async deliverReceipts(): Promise<number> {
    const owed = this.pendingReceipts.splice(0);
    await Promise.all(
      owed.map((r) => {
        const body = { [r.taskId]: { param: r.param, targets: r.regId, ackTime: Date.now() } };
        return fetch(r.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((res) => res.arrayBuffer());
      }),
    );
    return owed.length;
  }

  private reply(res: http.ServerResponse, result: number, desc: string, more: Record<string, unknown> = {}): void {
    res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify({ result, desc, ...more }));
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString()) as Record<string, unknown>;
    } catch {
      res.writeHead(500);
      return void res.end('Internet server error!');
    }
    if (req.method !== 'POST') {
      res.writeHead(404);
      return void res.end();
    }
    if (req.url === '/message/auth') return this.auth(res, body);
    const routes: Record<string, (res: http.ServerResponse, body: Record<string, unknown>, appId: string) => void> = {
      '/message/send': (r, b, a) => this.send(r, b, a),
      '/message/saveListPayload': (r, b, a) => this.save(r, b, a),
      '/message/pushToList': (r, b, a) => this.pushToList(r, b, a),
    };
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404);
      return void res.end();
    }
    const t = this.tokens.get(String(req.headers.authtoken ?? ''));
    if (!t || t.until < Date.now()) return this.reply(res, VIVO_AUTH_REFUSED, 'authToken invalid or expired');
    if (String(body.appId) !== t.appId) return this.reply(res, 10094, 'appId does not match the authToken');
    const injected = this.failures.shift();
    if (injected !== undefined) return this.reply(res, injected, 'injected');
    route(res, body, t.appId);
  }

  private auth(res: http.ServerResponse, b: Record<string, unknown>): void {
    const appId = String(b.appId ?? '');
    const app = this.apps.get(appId);
    const ts = Number(b.timestamp);
    if (!app || String(b.appKey) !== app.appKey) return this.reply(res, VIVO_AUTH_REFUSED, 'unknown app');
    if (!Number.isInteger(ts) || String(ts).length !== 13 || Math.abs(Date.now() - ts) > 600_000) return this.reply(res, VIVO_AUTH_REFUSED, 'timestamp outside 10 minutes');
    const sign = crypto.createHash('md5').update(appId + app.appKey + String(b.timestamp) + app.appSecret).digest('hex');
    if (b.sign !== sign) return this.reply(res, VIVO_AUTH_REFUSED, 'sign mismatch');
    const authToken = crypto.randomBytes(20).toString('hex');
    this.tokens.set(authToken, { appId, until: Date.now() + 86_400_000 });
    this.authRequests.push(appId);
    this.reply(res, 0, 'success', { authToken });
  }

  /** §8 field rules; answers a message for the reply or undefined when the fields are valid. */
  private invalidField(b: Record<string, unknown>): { result: number; desc: string } | undefined {
    // "一个汉字等于两个英文字符": ASCII counts one, a Chinese (any other) character two
    const width = (v: string) => [...v].reduce((n, ch) => n + (ch.charCodeAt(0) <= 0x7f ? 1 : 2), 0);
    if (![1, 2, 3, 4].includes(Number(b.notifyType))) return { result: VIVO_BAD_FIELD, desc: 'notifyType' };
    if (typeof b.title !== 'string' || !b.title || width(b.title) > 40) return { result: VIVO_BAD_FIELD, desc: 'title: at most 20 Chinese or 40 ASCII characters' };
    if (typeof b.content !== 'string' || !b.content || width(b.content) > 100) return { result: VIVO_BAD_FIELD, desc: 'content: at most 50 Chinese or 100 ASCII characters' };
    const ttl = b.timeToLive;
    if (ttl !== undefined && (!Number.isInteger(ttl) || Number(ttl) < 60 || Number(ttl) > 7 * 86_400)) return { result: VIVO_BAD_FIELD, desc: 'timeToLive: 60 s to 7 days' };
    if (![1, 2, 3, 4].includes(Number(b.skipType))) return { result: VIVO_BAD_FIELD, desc: 'skipType' };
    if (b.classification !== undefined && b.classification !== 0 && b.classification !== 1) return { result: VIVO_BAD_FIELD, desc: 'classification' };
    if (b.category !== undefined && (typeof b.category !== 'string' || b.category !== b.category.toUpperCase())) return { result: 10096, desc: 'category invalid' };
    if (b.clientCustomMap !== undefined) {
      const m = b.clientCustomMap as Record<string, unknown>;
      if (typeof m !== 'object' || Object.values(m).some((v) => typeof v !== 'string')) return { result: VIVO_BAD_FIELD, desc: 'clientCustomMap must map strings' };
      if (Object.entries(m).reduce((n, [k, v]) => n + k.length + String(v).length, 0) > 1024) return { result: VIVO_BAD_FIELD, desc: 'clientCustomMap over 1024 characters' };
    }
    if (typeof b.requestId !== 'string' || !b.requestId || b.requestId.length > 64) return { result: VIVO_BAD_FIELD, desc: 'requestId' };
    return undefined;
  }

  private send(res: http.ServerResponse, b: Record<string, unknown>, appId: string): void {
    const bad = this.invalidField(b);
    if (bad) return this.reply(res, bad.result, bad.desc);
    const regId = String(b.regId ?? '');
    if (!regId) return this.reply(res, VIVO_BAD_FIELD, 'regId or alias required');
    const status = this.invalid.get(regId);
    // a copy of vivo's single-send doc shows an invalid regId answered 10302 with invalidUser
    if (status !== undefined) return this.reply(res, 10302, 'regId invalid', { invalidUser: { userid: regId, status } });
    const extra = b.extra as Record<string, unknown> | undefined;
    if (extra && (typeof extra.callback !== 'string' || extra.callback.length > 128 || String(extra['callback.param'] ?? '').length > 64)) return this.reply(res, VIVO_BAD_FIELD, 'extra.callback');
    const taskId = String(crypto.randomInt(1e9));
    if (extra) this.pendingReceipts.push({ url: String(extra.callback), param: String(extra['callback.param'] ?? ''), taskId, regId });
    this.received.push({ appId, regIds: [regId], message: b });
    this.reply(res, 0, 'success', { taskId });
  }

  private save(res: http.ServerResponse, b: Record<string, unknown>, appId: string): void {
    const bad = this.invalidField(b);
    if (bad) return this.reply(res, bad.result, bad.desc);
    const taskId = String(crypto.randomInt(1e9));
    this.payloads.set(taskId, { appId, message: b });
    this.reply(res, 0, 'success', { taskId });
  }

  private pushToList(res: http.ServerResponse, b: Record<string, unknown>, appId: string): void {
    const saved = this.payloads.get(String(b.taskId ?? ''));
    if (!saved || saved.appId !== appId) return this.reply(res, VIVO_BAD_FIELD, 'taskId unknown');
    const regIds = b.regIds;
    if (!Array.isArray(regIds) || regIds.length < 2 || regIds.length > 1000 || regIds.some((r) => typeof r !== 'string')) return this.reply(res, VIVO_BAD_FIELD, 'regIds: 2 to 1000');
    if (typeof b.requestId !== 'string' || !b.requestId) return this.reply(res, VIVO_BAD_FIELD, 'requestId');
    const invalidUsers = (regIds as string[]).filter((r) => this.invalid.has(r)).map((r) => ({ userid: r, status: this.invalid.get(r) }));
    const ok = (regIds as string[]).filter((r) => !this.invalid.has(r));
    if (ok.length > 0) this.received.push({ appId, regIds: ok, message: saved.message });
    this.reply(res, 0, 'success', { taskId: b.taskId, invalidUsers });
  }
}
