/** JSON POSTs from the orchestrator: Herald's admin API (UserSig in the query) and the baseline's `/broadcast`. */
import http from 'node:http';
import { genUserSig } from '../../packages/server/src/auth/usersig.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

export interface Posted<T> {
  reply: T;
  /** Send to complete reply, ms. */
  ms: number;
}

/** POSTs `body` as JSON to `url` (127.0.0.1 only) and parses the JSON answer; fails on HTTP ≠ 200 or a timeout. */
export function postJson<T>(url: string, body: unknown, timeoutMs = 60_000): Promise<Posted<T>> {
  const u = new URL(url);
  const data = JSON.stringify(body);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', agent, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - t0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`POST ${u.pathname}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
          try {
            resolve({ reply: JSON.parse(text) as T, ms });
          } catch {
            reject(new Error(`POST ${u.pathname}: answer is not JSON: ${text.slice(0, 300)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${u.pathname}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** A GET whose answer, whatever its status, is only waited for (a responsiveness probe). */
export function httpGet(url: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Tencent's envelope. */
export interface TimReply {
  ActionStatus: string;
  ErrorCode: number;
  ErrorInfo: string;
  [k: string]: unknown;
}

export const ADMIN = 'administrator';

/** Herald's admin API as the app's backend calls it: `POST /v4/timpush/{command}?sdkappid=&identifier=&usersig=&random=&contenttype=json`. */
export class AdminApi {
  private userSig: string;
  private random = Math.floor(Math.random() * 2 ** 31);

  constructor(private baseUrl: string, private sdkAppId: number, secretKey: string) {
    this.userSig = genUserSig(sdkAppId, secretKey, ADMIN, 86400);
  }

  /** A fresh 32-bit number for `random` and `MsgRandom`. */
  nextRandom(): number {
    this.random = (this.random + 1) >>> 0;
    return this.random;
  }

  async call(command: string, body: unknown, timeoutMs?: number): Promise<Posted<TimReply>> {
    const q = new URLSearchParams({ sdkappid: String(this.sdkAppId), identifier: ADMIN, usersig: this.userSig, random: String(this.nextRandom()), contenttype: 'json' });
    return postJson<TimReply>(`${this.baseUrl}/v4/timpush/${command}?${q}`, body, timeoutMs);
  }

  /** Like call(), but an answer other than ActionStatus OK is an error naming the command and its code. */
  async ok(command: string, body: unknown, timeoutMs?: number): Promise<Posted<TimReply>> {
    const r = await this.call(command, body, timeoutMs);
    if (r.reply.ActionStatus !== 'OK' || r.reply.ErrorCode !== 0) throw new TimCallError(command, r.reply);
    return r;
  }
}

export class TimCallError extends Error {
  constructor(readonly command: string, readonly reply: TimReply) {
    super(`v4/timpush/${command} answered ${reply.ErrorCode} ${reply.ErrorInfo}${reply.ErrorCode === 60009 ? ' (the command is not served by this Herald yet)' : ''}`);
  }
}

/** Closes the kept-alive sockets (at the end of a run, so the process can exit). */
export function closeAgent(): void {
  agent.destroy();
}
