import { WebSocket } from 'ws';
import { genUserSig } from '../../src/auth/usersig.js';
import { loadConfig } from '../../src/config.js';
import { startHerald, type Herald, type StartOptions } from '../../src/herald.js';
import { apps, type App } from '../../src/store/index.js';
import type { TestDatabase } from './dialects.js';

export interface TestHerald {
  herald: Herald;
  url: string;
  /** Restart on the same store (same data folder or schema), staying down for `downMs`. */
  restart(downMs?: number): Promise<void>;
  createApp(name?: string): Promise<App>;
  stop(): Promise<void>;
}

/**
 * Every edge rate limit off (HERALD_LIMIT_*): for tests and harnesses that make thousands of
 * failing or registering calls from one address on purpose.
 */
export const NO_RATE_LIMITS: Record<string, string> = Object.fromEntries(
  ['ADMIN_AUTH_FAILURES', 'DEVICE_AUTH_FAILURES', 'REGISTRATIONS'].flatMap((what) => ['ADDRESS', 'APP'].map((per) => [`HERALD_LIMIT_${what}_PER_${per}`, '0'])),
);

/** A real Herald on a free loopback port, on a fresh store of the given dialect. */
export async function startTestHerald(db: TestDatabase, overrides: Record<string, string> = {}, opts: StartOptions = {}): Promise<TestHerald> {
  const store = await db.create();
  const env = {
    HERALD_PORT: '0',
    HERALD_HOST: '127.0.0.1',
    HERALD_DATA_DIR: store.dataDir,
    HERALD_LOG_LEVEL: process.env.HERALD_TEST_LOG ?? 'silent',
    ...(store.databaseUrl ? { HERALD_DATABASE_URL: store.databaseUrl } : {}),
    ...overrides,
  };
  let herald = await startHerald(loadConfig(env), opts);
  const t: TestHerald = {
    herald,
    url: herald.url,
    async restart(downMs = 0) {
      await herald.close();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      herald = await startHerald(loadConfig({ ...env, HERALD_PORT: String(herald.port) }), opts);
      t.herald = herald;
      t.url = herald.url;
    },
    createApp: (name = 'test') => apps.createApp(herald.store.db, name),
    async stop() {
      await herald.close();
      await store.drop();
    },
  };
  return t;
}

export interface AdminCallOptions {
  identifier?: string;
  usersig?: string;
  sdkappid?: string;
  query?: Record<string, string>;
  rawBody?: string;
  contentType?: string;
  /** Extra request headers (e.g. X-Forwarded-For behind a trusted proxy). */
  headers?: Record<string, string>;
}

/** The path and query of `v4/timpush/{command}`, signed for the app's admin unless `o` says otherwise. */
export function adminPath(app: App, command: string, o: AdminCallOptions = {}): string {
  const identifier = o.identifier ?? 'administrator';
  const q = new URLSearchParams({
    sdkappid: o.sdkappid ?? String(app.sdkAppId),
    identifier,
    usersig: o.usersig ?? genUserSig(app.sdkAppId, app.secretKey, identifier, 3600),
    random: '12345',
    contenttype: 'json',
    ...o.query,
  });
  for (const [k, v] of [...q.entries()]) if (v === '\u0000') q.delete(k);
  return `/v4/timpush/${command}?${q}`;
}

/** Calls `v4/timpush/{command}` as an app backend would; returns the parsed envelope. */
export async function admin(url: string, app: App, command: string, body: unknown, o: AdminCallOptions = {}): Promise<Record<string, any>> {
  const res = await fetch(url + adminPath(app, command, o), {
    method: 'POST',
    headers: { 'content-type': o.contentType ?? 'application/json', ...o.headers },
    body: o.rawBody ?? JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`admin API answered HTTP ${res.status}`);
  return (await res.json()) as Record<string, any>;
}

let random = 1;
export function pushBody(to: string[], info: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { From_Account: 'administrator', To_Account: to, MsgRandom: random++, OfflinePushInfo: { PushFlag: 0, Title: 't', Desc: 'd', ...info }, ...extra };
}

export interface DeviceHandle {
  registrationId: string;
  credential: string;
}

/** Registers a device through the device API. */
export async function registerDevice(url: string, app: App, body: Record<string, unknown> = {}): Promise<DeviceHandle> {
  const res = await deviceCall(url, app, 'POST', '/device/v1/register', { installId: `inst-${Math.random().toString(36).slice(2)}`, platform: 'node', ...body });
  if (res.status !== 200) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as DeviceHandle;
}

export async function deviceCall(url: string, app: App, method: string, path: string, body?: unknown, device?: DeviceHandle, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: {
      'content-type': 'application/json',
      'x-herald-sdkappid': String(app.sdkAppId),
      'x-herald-appkey': app.appKey,
      ...(device ? { 'x-herald-registration-id': device.registrationId, authorization: `Bearer ${device.credential}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A raw gateway connection that records every frame, for protocol-level tests. */
export class RawDevice {
  frames: any[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()));
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<RawDevice> {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/gateway/v1', { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawDevice(ws);
  }

  /** Opens, authenticates and waits for `ready`. */
  static async connect(url: string, app: App, device: DeviceHandle): Promise<RawDevice> {
    const d = await RawDevice.open(url);
    d.send({ t: 'auth', sdkAppId: app.sdkAppId, registrationId: device.registrationId, credential: device.credential });
    await d.waitFor((f) => f.t === 'ready');
    return d;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  msgs(): any[] {
    return this.frames.filter((f) => f.t === 'msg');
  }

  async waitFor(pred: (f: any) => boolean, timeoutMs = 5000): Promise<any> {
    return this.until(() => this.frames.find(pred), timeoutMs, 'frame');
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed ?? undefined, timeoutMs, 'close');
  }

  private async until<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** Polls until `check` returns a value, for state written in the background (acks, clicks). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A device registered with these fields and, if given, bound to a user. */
export async function makeDevice(url: string, app: App, opts: { user?: string; locale?: string; timeZone?: string } = {}): Promise<DeviceHandle> {
  const d = await registerDevice(url, app, { ...(opts.locale ? { locale: opts.locale } : {}), ...(opts.timeZone ? { timeZone: opts.timeZone } : {}) });
  if (opts.user) await deviceCall(url, app, 'POST', '/device/v1/bind', { userId: opts.user }, d);
  return d;
}

/** A connected device that acks every message it gets, as the SDK does. */
export async function ackingDevice(url: string, app: App, d: DeviceHandle): Promise<RawDevice> {
  const c = await RawDevice.connect(url, app, d);
  for (const f of c.msgs()) c.send({ t: 'ack', seqs: [f.seq] }); // frames that came with ready
  c.ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    if (f.t === 'msg') c.send({ t: 'ack', seqs: [f.seq] });
  });
  return c;
}

let broadcastRandom = 100_000;
/** A `v4/timpush/push` body to all users unless `extra` names a Condition. */
export function broadcastBody(extra: Record<string, unknown> = {}, info: Record<string, unknown> = {}): Record<string, unknown> {
  return { From_Account: 'administrator', MsgRandom: broadcastRandom++, OfflinePushInfo: { PushFlag: 0, Title: 'hello', Desc: 'world', ...info }, ...extra };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A task's device-level loss rows. */
export const lossRows = (h: TestHerald, taskId: string) => h.herald.store.db.selectFrom('losses').select(['registration_id', 'code', 'stage', 'reason']).where('task_id', '=', taskId).execute();

/** Stops Herald and an emulator; the emulator stops even if Herald never started, or the process would not exit. */
export async function stopWithEmulator(h: TestHerald | undefined, emu: { stop(): Promise<void> }): Promise<void> {
  try {
    await h?.stop();
  } finally {
    await emu.stop();
  }
}
