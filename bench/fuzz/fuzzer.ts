/**
 * Sends fuzz cases to a running Herald and judges the answers. A case fails on an answer no client
 * should get: HTTP 5xx, 91000 (internal error), an admin answer that is not HTTP 200 with Tencent's
 * envelope, or a connection dropped before the whole answer arrived.
 */
import type { App } from '../../packages/server/src/store/index.js';
import { admin, adminPath, deviceCall, registerDevice, type DeviceHandle } from '../../packages/server/test/helpers/herald.js';
import { sendThenRead, type RawAnswer } from '../../packages/server/test/helpers/raw-http.js';
import { ADMIN_COMMANDS, FIXTURE, fuzzCase, PLACEHOLDERS, type AdminCase, type DeviceCase, type FuzzCase, type Placeholder } from './cases.js';

export interface FuzzTarget {
  url: string;
  app: App;
  devices: DeviceHandle[];
  values: Record<Placeholder, string>;
}

/** The app's fixtures (cases.ts FIXTURE): devices, users, tags, an attribute, a certificate, schedules, a push, a chat push and a template. */
export async function prepareTarget(url: string, app: App): Promise<FuzzTarget> {
  const devices: DeviceHandle[] = [];
  for (const [i, registrationId] of FIXTURE.registrationIds.entries()) {
    const d = await registerDevice(url, app, { registrationId, installId: `fuzz-fixture-${i}`, platform: 'android' });
    const user = FIXTURE.users[i];
    if (user) await deviceCall(url, app, 'POST', '/device/v1/bind', { userId: user }, d);
    devices.push(d);
  }
  const ok = async (command: string, body: unknown) => {
    const r = await admin(url, app, command, body);
    if (r.ErrorCode !== 0) throw new Error(`fixture ${command} failed: ${JSON.stringify(r)}`);
    return r;
  };
  const info = { PushFlag: 0, Title: 'hello', Desc: 'world' };
  await ok('set_attr_name', { AttrNames: { '0': FIXTURE.attr } });
  await ok('add_tag', { UserTags: [{ To_Account: 'alice', Tags: [...FIXTURE.tags] }] });
  await ok('set_certificate', { Vendor: 'xiaomi', Name: 'fixture', Config: { appSecret: 'fixture-secret', packageName: 'com.example.fuzz', baseUrl: 'http://127.0.0.1:9' } });
  for (const hours of FIXTURE.schedIds) await ok('add_sched_task', { Type: 'All', SchedAt: new Date(Date.now() + hours * 3600_000).toISOString().replace('T', ' ').slice(0, 19), Content: { From_Account: 'administrator', OfflinePushInfo: info } });
  const task = await ok('batch', { From_Account: 'administrator', MsgRandom: 1, To_Account: ['alice'], OfflinePushInfo: info });
  const chat = await ok('chat_push', { From_Account: 'bob', To_Account: 'alice', MsgRandom: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }] });
  const template = await ok('set_push_template', { Name: 'fixture', Title: 'Order {{orderId}}', Desc: 'Hi {{name}}' });
  return { url, app, devices, values: { $TASK: task.TaskId, $CHAT: chat.PushID, $TEMPLATE: template.PushTemplateId } };
}

export interface Outcome {
  /** "admin push", "POST /device/v1/register". */
  endpoint: string;
  /** The admin ErrorCode, or the device API's HTTP status and error code; "dropped" for a lost connection. */
  code: string;
  /** Why this answer fails the run. */
  failure?: string;
}

const fill = (t: FuzzTarget, text: string) => PLACEHOLDERS.reduce((s, p) => s.replaceAll(p, t.values[p]), text);

async function answer(endpoint: string, send: () => Promise<RawAnswer>, judge: (a: RawAnswer) => Outcome): Promise<Outcome> {
  try {
    return judge(await send());
  } catch (err) {
    return { endpoint, code: 'dropped', failure: (err as Error).message };
  }
}

function sendAdmin(t: FuzzTarget, c: AdminCase): Promise<Outcome> {
  const endpoint = ADMIN_COMMANDS.includes(c.command) ? `admin ${c.command}` : 'admin (unknown command)';
  const path = adminPath(t.app, c.command, { ...(c.query?.identifier ? { identifier: c.query.identifier } : {}), ...(c.query?.usersig ? { usersig: c.query.usersig } : {}), ...(c.query?.extra ? { query: c.query.extra } : {}) });
  const send = () => sendThenRead(t.url, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: fill(t, c.body) });
  return answer(endpoint, send, (a) => {
    if (a.status !== 200) return { endpoint, code: `HTTP ${a.status}`, failure: `HTTP ${a.status}: ${a.body.slice(0, 300)}` };
    let code: unknown;
    try {
      code = (JSON.parse(a.body) as { ErrorCode?: unknown }).ErrorCode;
    } catch {
      return { endpoint, code: 'not JSON', failure: `answer is not JSON: ${a.body.slice(0, 300)}` };
    }
    if (typeof code !== 'number') return { endpoint, code: 'no ErrorCode', failure: `answer has no ErrorCode: ${a.body.slice(0, 300)}` };
    return code === 91000 ? { endpoint, code: '91000', failure: `91000: ${a.body.slice(0, 300)}` } : { endpoint, code: String(code) };
  });
}

async function sendDevice(t: FuzzTarget, c: DeviceCase): Promise<Outcome> {
  const endpoint = `${c.method} ${c.path}`;
  let device: DeviceHandle | undefined;
  if (c.auth === 'device') device = t.devices[c.device];
  if (c.auth === 'fresh') {
    try {
      device = await registerDevice(t.url, t.app);
    } catch (err) {
      return { endpoint, code: 'setup', failure: `registering the case's device failed: ${(err as Error).message}` };
    }
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-herald-sdkappid': String(t.app.sdkAppId),
    'x-herald-appkey': t.app.appKey,
    ...(device ? { 'x-herald-registration-id': device.registrationId, authorization: `Bearer ${device.credential}` } : {}),
    ...c.headers,
  };
  const send = () => sendThenRead(t.url, { method: c.method, path: c.path, headers, ...(c.body === undefined ? {} : { body: fill(t, c.body) }) });
  return answer(endpoint, send, (a) => {
    let code = '';
    try {
      code = a.body ? String((JSON.parse(a.body) as { error?: { code?: unknown } }).error?.code ?? '') : '';
    } catch {
      return { endpoint, code: `${a.status} not JSON`, failure: `answer is not JSON: ${a.body.slice(0, 300)}` };
    }
    const outcome = { endpoint, code: code ? `${a.status} ${code}` : String(a.status) };
    return a.status >= 500 ? { ...outcome, failure: `HTTP ${a.status}: ${a.body.slice(0, 300)}` } : outcome;
  });
}

/** The case sent `repeat` times at once; an outcome per send. */
export function runCase(t: FuzzTarget, c: FuzzCase): Promise<Outcome[]> {
  const send = () => (c.api === 'admin' ? sendAdmin(t, c) : sendDevice(t, c));
  return Promise.all(Array.from({ length: c.repeat }, send));
}

export interface FuzzFailure {
  fuzzCase: FuzzCase;
  outcome: Outcome;
}

export interface FuzzResult {
  /** endpoint → answer code → count. */
  counts: Map<string, Map<string, number>>;
  failures: FuzzFailure[];
  sends: number;
}

export interface FuzzRun {
  seed: number;
  from: number;
  count: number;
  /** Cases in flight at once (1: one after another, the same order every run). */
  parallel?: number;
  onCase?: (n: number) => void;
}

/** Cases `from` … `from + count − 1` of `seed`. */
export async function runFuzz(t: FuzzTarget, o: FuzzRun): Promise<FuzzResult> {
  const result: FuzzResult = { counts: new Map(), failures: [], sends: 0 };
  let next = o.from;
  const worker = async () => {
    for (let n = next++; n < o.from + o.count; n = next++) {
      const c = fuzzCase(o.seed, n);
      for (const outcome of await runCase(t, c)) {
        result.sends++;
        const byCode = result.counts.get(outcome.endpoint) ?? new Map<string, number>();
        byCode.set(outcome.code, (byCode.get(outcome.code) ?? 0) + 1);
        result.counts.set(outcome.endpoint, byCode);
        if (outcome.failure) result.failures.push({ fuzzCase: c, outcome });
      }
      o.onCase?.(n);
    }
  };
  await Promise.all(Array.from({ length: o.parallel ?? 1 }, worker));
  return result;
}

/** A case as one line, its body cut to `max` characters. */
export function describeCase(c: FuzzCase, max = 600): string {
  const body = c.body === undefined ? undefined : c.body.length > max ? `${c.body.slice(0, max)}… (${c.body.length} characters)` : c.body;
  return JSON.stringify({ ...c, body });
}
