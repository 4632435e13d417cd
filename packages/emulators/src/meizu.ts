import crypto from 'node:crypto';
import type http from 'node:http';
import { LoopbackEmulator } from './loopback.js';

/**
 * Meizu (Flyme) Push on loopback: `POST /garcia/api/server/push/varnished/pushByPushId`, a form of
 * `appId`, `pushIds` (≤ 100), `messageJson` and `sign` (MD5 over the parameters sorted by name as
 * `k=v`, raw values, then the appSecret). Checks the sign (1006), the app (110000), the
 * notification fields (title 1–32, content 1–100, validTime 1–72 h, notifyKey ≤ 8 of
 * [0-9a-zA-Z_-], callback ≤ 128 bytes) and answers `{code, message, value, msgId}` with failed
 * pushIds in `value`. Receipts are posted as a form with `cb`. `GET
 * /garcia/api/server/push/statistics/dailyPushStatics` (appId, startTime, endTime as yyyyMMdd,
 * sign) answers the app's daily statistics after the same app and sign checks. Written from
 * vendor-protocols.md §9 and its source [M1]; it shares no code with Herald's channel.
 */
export interface MeizuReceived {
  appId: string;
  pushIds: string[];
  message: Record<string, unknown>;
}

export class MeizuEmulator extends LoopbackEmulator {
  readonly received: MeizuReceived[] = [];
  private apps = new Map<string, string>();
  private invalid = new Map<string, number>();
  private failures: number[] = [];
  private pushIdFailures: { code: number; count: number }[] = [];
  private pendingReceipts: { url: string; param: string; msgId: string; pushIds: string[] }[] = [];

  /** An app on the Flyme push platform: its appId and appSecret. */
  app(): { appId: string; appSecret: string } {
    const appId = String(100_000 + crypto.randomInt(900_000));
    const appSecret = crypto.randomBytes(16).toString('hex');
    this.apps.set(appId, appSecret);
    return { appId, appSecret };
  }

  /** The next request is answered with this top-level code, e.g. 1003 busy or 110019 daily limit. */
  failNext(code: number): void {
    this.failures.push(code);
  }

  /** The next request lists every pushId under this `value` code, e.g. 513 push failure. */
  failPushIdsNext(code: number): void {
    this.pushIdFailures.push({ code, count: 1 });
  }

  /**
   * This pushId is reported under `code` in `value` from now on: 110002 not subscribed (default),
   * 110003 illegal, 110010 its message switch turned off.
   */
  invalidate(pushId: string, code = 110002): void {
    this.invalid.set(pushId, code);
  }

  /** Posts the delivery receipts owed, a form with `cb` per callback URL; resolves once all are answered. */
  async deliverReceipts(): Promise<number> {
    const owed = this.pendingReceipts.splice(0);
    await Promise.all(
      owed.map((r) => {
        const cb = { [`${r.msgId}-1`]: { param: r.param, type: 1, targets: r.pushIds } };
        const form = new URLSearchParams({ cb: JSON.stringify(cb), access_token: crypto.randomBytes(8).toString('hex') });
        return fetch(r.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() }).then((res) => res.arrayBuffer());
      }),
    );
    return owed.reduce((n, r) => n + r.pushIds.length, 0);
  }

  private reply(res: http.ServerResponse, code: number, message: string, value: unknown = '', msgId?: string): void {
    res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify({ code: String(code), message, value, redirect: '', ...(msgId ? { msgId } : {}) }));
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://meizu');
    const route = `${req.method} ${url.pathname}`;
    const push = route === 'POST /garcia/api/server/push/varnished/pushByPushId';
    if (!push && route !== 'GET /garcia/api/server/push/statistics/dailyPushStatics') {
      res.writeHead(404);
      return void res.end();
    }
    const params = Object.fromEntries(push ? new URLSearchParams(raw.toString()) : url.searchParams);
    const secret = this.apps.get(params.appId ?? '');
    if (!secret) return this.reply(res, 110000, 'appId illegal');
    const { sign, ...rest } = params;
    const base = Object.keys(rest)
      .sort()
      .map((k) => k + '=' + rest[k])
      .join('');
    if (sign !== crypto.createHash('md5').update(base + secret, 'utf8').digest('hex')) return this.reply(res, 1006, 'sign failure');
    if (!push) return this.statistics(res, params);
    const injected = this.failures.shift();
    if (injected !== undefined) return this.reply(res, injected, 'injected');
    const pushIds = (params.pushIds ?? '').split(',').filter(Boolean);
    if (pushIds.length === 0 || !params.messageJson) return this.reply(res, 110004, 'parameters must not be empty');
    if (pushIds.length > 100) return this.reply(res, 1005, 'at most 100 pushIds');
    let msg: Record<string, any>;
    try {
      msg = JSON.parse(params.messageJson) as Record<string, any>;
    } catch {
      return this.reply(res, 1005, 'messageJson is not JSON');
    }
    const problem = this.check(msg);
    if (problem) return this.reply(res, 1005, problem);
    const msgId = crypto.randomBytes(16).toString('hex');
    const value: Record<string, string[]> = {};
    const injectedIds = this.pushIdFailures.shift();
    for (const id of pushIds) {
      const code = injectedIds?.code ?? this.invalid.get(id);
      if (code !== undefined) (value[String(code)] ??= []).push(id);
    }
    const ok = pushIds.filter((id) => !Object.values(value).some((ids) => ids.includes(id)));
    if (ok.length > 0) {
      this.received.push({ appId: params.appId!, pushIds: ok, message: msg });
      const extra = msg.extra as Record<string, unknown> | undefined;
      if (extra && Number(extra['callback.type'] ?? 3) & 1) this.pendingReceipts.push({ url: String(extra.callback), param: String(extra['callback.param'] ?? ''), msgId, pushIds: ok });
    }
    this.reply(res, 200, '', value, msgId);
  }

  /** [M1] "获取应用推送统计": per day from startTime to endTime (at most 30 days apart); nothing is sent. */
  private statistics(res: http.ServerResponse, q: Record<string, string>): void {
    const day = (s: string | undefined) => (s && /^\d{8}$/.test(s) ? Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6))) : NaN);
    const start = day(q.startTime);
    const end = day(q.endTime);
    if (Number.isNaN(start) || Number.isNaN(end)) return this.reply(res, 1005, 'startTime and endTime: yyyyMMdd');
    if (end < start) return this.reply(res, 500, 'endTime before startTime');
    if (end - start > 30 * 86_400_000) return this.reply(res, 500, 'at most 30 days');
    const pushedNo = this.received.filter((r) => r.appId === q.appId).reduce((n, r) => n + r.pushIds.length, 0);
    this.reply(res, 200, '', [{ date: new Date(end).toISOString().slice(0, 10), pushedNo, targetNo: pushedNo, validNo: pushedNo, acceptNo: 0, displayNo: 0, clickNo: 0 }]);
  }

  /** The notification-bar fields of [M1]; the problem, or undefined. */
  private check(m: Record<string, any>): string | undefined {
    const len = (v: unknown) => [...String(v)].length;
    const bar = m.noticeBarInfo;
    if (!bar || typeof bar.title !== 'string' || len(bar.title) < 1 || len(bar.title) > 32) return 'noticeBarInfo.title: 1 to 32 characters';
    if (typeof bar.content !== 'string' || len(bar.content) < 1 || len(bar.content) > 100) return 'noticeBarInfo.content: 1 to 100 characters';
    if (bar.noticeMsgType !== undefined && bar.noticeMsgType !== 0 && bar.noticeMsgType !== 1) return 'noticeMsgType';
    const click = m.clickTypeInfo?.clickType ?? 0;
    if (![0, 1, 2, 3].includes(click)) return 'clickType';
    if (click === 2 && !m.clickTypeInfo.url) return 'clickTypeInfo.url';
    const params = m.clickTypeInfo?.parameters;
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) return 'clickTypeInfo.parameters';
    const time = m.pushTimeInfo ?? {};
    if ((time.offLine ?? 1) === 1 && time.validTime !== undefined && (!Number.isInteger(time.validTime) || time.validTime < 1 || time.validTime > 72)) return 'validTime: 1 to 72 hours';
    const key = m.advanceInfo?.notifyKey;
    if (key !== undefined && !/^[0-9a-zA-Z_-]{0,8}$/.test(String(key))) return 'notifyKey';
    const extra = m.extra;
    if (extra !== undefined) {
      if (typeof extra.callback !== 'string' || !extra.callback || Buffer.byteLength(extra.callback) > 128) return 'extra.callback';
      if (extra['callback.param'] !== undefined && Buffer.byteLength(String(extra['callback.param'])) > 64) return 'extra.callback.param';
      if (extra['callback.type'] !== undefined && ![1, 2, 3].includes(Number(extra['callback.type']))) return 'extra.callback.type';
    }
    return undefined;
  }
}
