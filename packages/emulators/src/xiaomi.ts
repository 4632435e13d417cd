import crypto from 'node:crypto';
import type http from 'node:http';
import { LoopbackEmulator } from './loopback.js';

/**
 * Xiaomi MiPush v3 on loopback: `POST /v3/message/regid` with a form body and
 * `Authorization: key=<AppSecret>`. Checks the secret and the restricted package name of the app,
 * the required fields, title under 50 and description under 128 characters, and answers in
 * MiPush's `{result, code, description, trace_id, data}` shape (21301 authentication failed,
 * 22022 package name invalid, 10017 bad parameter, 65009 content too long, or an injected code
 * such as 200001 quota). `GET /v1/stats/message/counters` (start_date, end_date as yyyyMMdd,
 * restricted_package_name) answers the app's counters with the same checks, notifying no one.
 * Written from vendor-protocols.md §6 and Xiaomi's error-code page (pId=1560); it shares no code
 * with Herald's channel.
 */
export interface XiaomiReceived {
  msgId: string;
  packageName: string;
  regIds: string[];
  fields: Record<string, string>;
}

export class XiaomiEmulator extends LoopbackEmulator {
  readonly received: XiaomiReceived[] = [];
  private apps = new Map<string, string>();
  private failures: number[] = [];
  private invalid = new Set<string>();
  private receiptsSent = new Set<XiaomiReceived>();

  /** The app was uninstalled from this device: its regId is an invalid target from now on. */
  invalidate(regId: string): void {
    this.invalid.add(regId);
  }

  /**
   * Posts the receipts the pushes received so far asked for (`extra.callback`): per message, type 1
   * (delivered) for the valid regIds and type 16 (invalid target) for the invalidated ones, each
   * as a form whose `data` is JSON keyed by the message id. Resolves once every post was answered.
   */
  async deliverReceipts(): Promise<number[]> {
    const statuses: number[] = [];
    for (const r of this.received) {
      const url = r.fields['extra.callback'];
      if (!url || this.receiptsSent.has(r)) continue;
      this.receiptsSent.add(r);
      const kinds = Number(r.fields['extra.callback.type'] ?? 3);
      const param = r.fields['extra.callback.param'] ?? '';
      const data: Record<string, unknown> = {};
      const valid = r.regIds.filter((id) => !this.invalid.has(id));
      const bad = r.regIds.filter((id) => this.invalid.has(id));
      if (kinds & 1 && valid.length > 0) data[r.msgId] = { param, type: 1, targets: valid.join(','), jobkey: r.fields['extra.jobkey'] ?? '', barStatus: 'Enable', timestamp: Date.now() };
      if (kinds & 16 && bad.length > 0) data[`${r.msgId}-16`] = { param, type: 16, targets: bad.join(','), timestamp: Date.now() };
      if (Object.keys(data).length === 0) continue;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ data: JSON.stringify(data) }).toString() });
      statuses.push(res.status);
    }
    return statuses;
  }

  /** An app registered on the Xiaomi open platform: its AppSecret and package name. */
  app(packageName = 'com.example.app'): { appSecret: string; packageName: string } {
    const appSecret = crypto.randomBytes(18).toString('base64');
    this.apps.set(appSecret, packageName);
    return { appSecret, packageName };
  }

  /** The next request is answered with this MiPush code. */
  failNext(code: number): void {
    this.failures.push(code);
  }

  private reply(res: http.ServerResponse, code: number, description: string, data: Record<string, unknown> = {}): void {
    res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify({ result: code === 0 ? 'ok' : 'error', code, description, reason: code === 0 ? undefined : description, trace_id: crypto.randomBytes(10).toString('hex'), data }));
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://mipush');
    const route = `${req.method} ${url.pathname}`;
    if (route !== 'POST /v3/message/regid' && route !== 'GET /v1/stats/message/counters') {
      res.writeHead(404);
      return void res.end();
    }
    const secret = /^key=(.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const pkg = secret ? this.apps.get(secret) : undefined;
    if (!pkg) return this.reply(res, 21301, 'authentication failed');
    if (req.method === 'GET') return this.counters(res, url.searchParams, pkg);
    const injected = this.failures.shift();
    if (injected !== undefined) return this.reply(res, injected, 'injected');
    const f = Object.fromEntries(new URLSearchParams(raw.toString()));
    for (const k of ['registration_id', 'restricted_package_name', 'title', 'description', 'pass_through']) {
      if (f[k] === undefined || f[k] === '') return this.reply(res, 10017, `missing ${k}`);
    }
    if (!f.restricted_package_name!.split(',').includes(pkg)) return this.reply(res, 22022, 'package name mismatch');
    if (f.title!.length >= 50 || f.description!.length >= 128) return this.reply(res, 65009, 'title or description too long');
    const regIds = f.registration_id!.split(',');
    const msgId = `slm${crypto.randomBytes(8).toString('hex')}`;
    this.received.push({ msgId, packageName: pkg, regIds, fields: f });
    this.reply(res, 0, 'success', { id: msgId });
  }

  /** The message counters of the app's package per day: nothing is sent to anyone. */
  private counters(res: http.ServerResponse, q: URLSearchParams, pkg: string): void {
    const start = q.get('start_date') ?? '';
    const end = q.get('end_date') ?? '';
    if (!/^\d{8}$/.test(start) || !/^\d{8}$/.test(end) || end < start) return this.reply(res, 10017, 'start_date and end_date must be yyyyMMdd');
    if (q.get('restricted_package_name') !== pkg) return this.reply(res, 22022, 'package name mismatch');
    const sent = this.received.filter((r) => r.packageName === pkg).length;
    this.reply(res, 0, 'success', { data: [{ date: end, single_push: sent, received: 0, click: 0 }] });
  }
}
