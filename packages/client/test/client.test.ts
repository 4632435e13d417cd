import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test, type TestContext } from 'node:test';
import {
  HeraldClient,
  HeraldError,
  MemoryStorage,
  type DisconnectedEvent,
  type HeraldClientOptions,
  type PushMessage,
} from '../src/index.js';
import { ready, sleep, startFakeServer, until, type FakeConn, type FakeServer, type FakeServerOptions } from './fake-server.js';

const SDK_APP_ID = 1400000001;
/** A hang (e.g. reconnecting forever) must fail the test, not stall the run. */
const T = { timeout: 10_000 };

interface Harness {
  server: FakeServer;
  client: HeraldClient;
  received: PushMessage[];
  disconnects: DisconnectedEvent[];
  errors: Error[];
  readies: number;
}

async function setup(
  t: TestContext,
  serverOpts: FakeServerOptions = {},
  clientOpts: Partial<HeraldClientOptions> = {},
): Promise<Harness> {
  const server = await startFakeServer(serverOpts);
  const client = newClient(server, clientOpts);
  const h: Harness = { server, client, received: [], disconnects: [], errors: [], readies: 0 };
  client.on('message', async (m) => {
    h.received.push(m);
    await sleep(2); // an async handler, as apps often have
  });
  client.on('disconnected', (d) => void h.disconnects.push(d));
  client.on('error', (e) => void h.errors.push(e));
  client.on('ready', () => void h.readies++);
  t.after(async () => {
    await client.disconnect();
    await server.close();
  });
  return h;
}

function newClient(server: FakeServer, opts: Partial<HeraldClientOptions> = {}): HeraldClient {
  return new HeraldClient({
    server: server.url,
    sdkAppId: SDK_APP_ID,
    appKey: 'app-key-1',
    storage: new MemoryStorage(),
    reconnect: { minDelayMs: 5, maxDelayMs: 20 },
    ...opts,
  });
}

function acked(conn: FakeConn): number[] {
  return conn.ofType('ack').flatMap((f) => f.seqs as number[]);
}

function registers(server: FakeServer) {
  return server.requests.filter((r) => r.path === '/device/v1/register');
}

test('register, auth, once-only delivery with batched acks, reconnect after 1006, stop on 4409', T, async (t) => {
  const h = await setup(
    t,
    {},
    { device: { platform: 'web', locale: 'zh-Hant-TW', appVersion: '3.2.0', token: null }, ackDelayMs: 50 },
  );
  const { server, client } = h;
  await client.connect();

  // Register: app headers only, the documented body.
  assert.equal(server.requests.length, 1);
  const reg = server.requests[0]!;
  assert.equal(reg.method, 'POST');
  assert.equal(reg.path, '/device/v1/register');
  assert.equal(reg.headers['x-herald-sdkappid'], String(SDK_APP_ID));
  assert.equal(reg.headers['x-herald-appkey'], 'app-key-1');
  assert.match(String(reg.headers['content-type']), /^application\/json/);
  assert.equal(reg.headers.authorization, undefined);
  assert.equal(reg.headers['x-herald-registration-id'], undefined);
  const body = reg.body as Record<string, unknown>;
  assert.match(String(body.installId), /^[A-Za-z0-9._:-]{8,128}$/);
  assert.equal(typeof body.timeZone, 'string'); // detected from Intl
  assert.deepEqual(
    { ...body, installId: '*', timeZone: '*' },
    { installId: '*', platform: 'web', locale: 'zh-Hant-TW', appVersion: '3.2.0', timeZone: '*', sdkVersion: 'herald-js/0.1.0' },
    'null token is not sent on register; nothing else is',
  );
  assert.equal(client.getRegistrationID(), 'r_test');
  assert.equal(h.readies, 1);

  // Auth is the first frame.
  const c1 = server.conns[0]!;
  assert.deepEqual(c1.frames[0], {
    t: 'auth',
    sdkAppId: SDK_APP_ID,
    registrationId: 'r_test',
    credential: 'cred-1',
    sdkVersion: 'herald-js/0.1.0',
  });

  // A resend of A reaches the app once; all seqs go out in one ack frame.
  c1.msg(1, 'A');
  c1.msg(2, 'B');
  c1.msg(1, 'A');
  c1.msg(3, 'C');
  await until('acks for 1..3', () => acked(c1).length >= 3);
  await sleep(120); // > ackDelayMs: a second ack frame would show up by now
  assert.deepEqual(
    h.received.map((m) => [m.id, m.seq, m.title]),
    [
      ['A', 1, 'title A'],
      ['B', 2, 'title B'],
      ['C', 3, 'title C'],
    ],
  );
  assert.deepEqual(c1.ofType('ack'), [{ t: 'ack', seqs: [1, 2, 3] }]);

  // Abnormal close: reconnect and authenticate again with the same registration.
  c1.ws.terminate();
  await until('second auth', () => server.auths.length === 2);
  assert.deepEqual(server.auths[1], server.auths[0]);
  assert.equal(registers(server).length, 1, 'no re-register for a dropped connection');
  assert.deepEqual(h.disconnects[0], { code: 1006, reason: '', willReconnect: true });
  await until('ready again', () => h.readies === 2);

  // Dedupe holds across the reconnect; the duplicate is still acked.
  const c2 = server.conns[1]!;
  c2.msg(1, 'A');
  c2.msg(4, 'D');
  await until('acks on the second connection', () => acked(c2).length >= 2);
  assert.deepEqual(
    h.received.map((m) => m.id),
    ['A', 'B', 'C', 'D'],
  );
  assert.deepEqual(acked(c2), [1, 4]);

  // Replaced by another connection: stop for good.
  c2.ws.close(4409, 'replaced');
  await until('4409 reported', () => h.disconnects.length === 2);
  assert.deepEqual(h.disconnects[1], { code: 4409, reason: 'replaced', willReconnect: false });
  await sleep(100); // far beyond maxDelayMs
  assert.equal(server.conns.length, 2, 'no reconnect after 4409');
  assert.deepEqual(h.errors, []);
});

test('the ack is sent only after the async handler resolves', T, async (t) => {
  const server = await startFakeServer();
  const client = newClient(server, { ackDelayMs: 10 });
  t.after(async () => {
    await client.disconnect();
    await server.close();
  });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const seen: string[] = [];
  client.on('message', async (m) => {
    seen.push(m.id);
    await gate;
  });
  await client.connect();
  const c = server.conns[0]!;
  c.msg(7, 'slow');
  await until('handler called', () => seen.length === 1);
  await sleep(100);
  assert.deepEqual(acked(c), [], 'not acked while the handler runs');
  release();
  await until('acked after the handler', () => acked(c).length === 1);
  assert.deepEqual(acked(c), [7]);
});

test('seen ids and the registration survive a restart', T, async (t) => {
  const server = await startFakeServer();
  t.after(() => server.close());
  const storage = new MemoryStorage();

  const first = newClient(server, { storage });
  const got1: string[] = [];
  first.on('message', (m) => void got1.push(m.id));
  await first.connect();
  server.conns[0]!.msg(1, 'A');
  await until('first ack', () => acked(server.conns[0]!).length === 1);
  await first.disconnect();
  assert.equal(server.conns[0]!.closed?.code, 1000);

  const second = newClient(server, { storage });
  t.after(() => second.disconnect());
  const got2: string[] = [];
  second.on('message', (m) => void got2.push(m.id));
  await second.connect();
  assert.equal(registers(server).length, 1, 'the stored registration is reused');
  assert.equal(server.auths[1]?.credential, 'cred-1');
  const c = server.conns[1]!;
  c.msg(1, 'A');
  c.msg(2, 'B');
  await until('acks after restart', () => acked(c).length === 2);
  assert.deepEqual(got1, ['A']);
  assert.deepEqual(got2, ['B'], 'A was seen before the restart');

  // Re-registering keeps the install id and takes the new credential.
  await second.registerPush();
  const regs = registers(server);
  assert.equal(regs.length, 2);
  assert.equal((regs[1]!.body as { installId: string }).installId, (regs[0]!.body as { installId: string }).installId);
});

test('4401: register again once, then reconnect with the new credential', T, async (t) => {
  const h = await setup(t, {
    onAuth: (conn, auth, n) => (n === 1 ? conn.ws.close(4401, 'bad credential') : ready(conn, auth)),
  });
  await h.client.connect();
  const regs = registers(h.server);
  assert.equal(regs.length, 2);
  assert.equal((regs[1]!.body as { installId: string }).installId, (regs[0]!.body as { installId: string }).installId);
  assert.deepEqual(
    h.server.auths.map((a) => a.credential),
    ['cred-1', 'cred-2'],
  );
  assert.deepEqual(h.disconnects, [{ code: 4401, reason: 'bad credential', willReconnect: true }]);
  assert.deepEqual(h.errors, []);
});

test('4401 again after registering again: error, connect() rejects, no more attempts', T, async (t) => {
  const h = await setup(t, { onAuth: (conn) => conn.ws.close(4401, 'bad credential') });
  await assert.rejects(h.client.connect(), { name: 'HeraldError', code: 'auth_failed' });
  assert.equal(h.errors.length, 1);
  assert.equal((h.errors[0] as HeraldError).code, 'auth_failed');
  await sleep(100);
  assert.equal(h.server.auths.length, 2);
  assert.equal(registers(h.server).length, 2);
  assert.equal(h.disconnects.at(-1)?.willReconnect, false);
});

test('4401 and then a re-register refused for good (4xx): error, connect() rejects, no more attempts', T, async (t) => {
  const h = await setup(t, {
    register: (_req, n) =>
      n === 1
        ? { status: 200, body: { registrationId: 'r_test', credential: 'cred-1', heartbeatSeconds: 30, gatewayPath: '/gateway/v1' } }
        : { status: 401, body: { error: { code: 'invalid_app', message: 'unknown app' } } },
    onAuth: (conn) => conn.ws.close(4401, 'bad credential'),
  });
  await assert.rejects(h.client.connect(), { name: 'HeraldError', status: 401 });
  assert.deepEqual(
    h.errors.map((e) => (e as HeraldError).status),
    [401],
  );
  await sleep(100);
  assert.equal(registers(h.server).length, 2, 're-registered once only');
  assert.equal(h.server.auths.length, 1);
});

for (const status of [429, 503]) {
  test(`4401 and then a re-register answered ${status}: asked again after the back-off, then connected`, T, async (t) => {
    const h = await setup(t, {
      register: (_req, n) =>
        n === 2
          ? { status, body: { error: { code: status === 429 ? 'rate_limited' : 'internal', message: 'not now' } } }
          : { status: 200, body: { registrationId: 'r_test', credential: `cred-${n}`, heartbeatSeconds: 30, gatewayPath: '/gateway/v1' } },
      onAuth: (conn, auth, n) => (n === 1 ? conn.ws.close(4401, 'bad credential') : ready(conn, auth)),
    });
    await h.client.connect();
    assert.equal(registers(h.server).length, 3, 'the refused re-register was made again');
    assert.deepEqual(
      h.server.auths.map((a) => a.credential),
      ['cred-1', 'cred-3'],
    );
    assert.deepEqual(
      h.errors.map((e) => (e as HeraldError).status),
      [status],
      'reported, not final',
    );
  });
}

test('a 4xx from register is final; a 5xx is retried with back-off', T, async (t) => {
  const bad = await setup(t, {
    register: () => ({ status: 401, body: { error: { code: 'invalid_app', message: 'unknown app' } } }),
  });
  await assert.rejects(bad.client.connect(), (err: unknown) => {
    assert.ok(err instanceof HeraldError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_app');
    assert.equal(err.message, 'unknown app');
    return true;
  });
  await sleep(100);
  assert.equal(bad.server.requests.length, 1);
  assert.equal(bad.server.conns.length, 0);

  const flaky = await setup(t, {
    register: (_req, n) =>
      n === 1
        ? { status: 500, body: { error: { code: 'internal', message: 'boom' } } }
        : { status: 200, body: { registrationId: 'r_x', credential: 'c', heartbeatSeconds: 30, gatewayPath: '/gateway/v1' } },
  });
  await flaky.client.connect();
  assert.equal(flaky.server.requests.length, 2);
  assert.deepEqual(
    flaky.errors.map((e) => [(e as HeraldError).status, (e as HeraldError).code]),
    [[500, 'internal']],
  );
});

test('the back-off starts again from the minimum after each successful ready', T, async (t) => {
  // random() ≈ 1 makes every delay its ceiling: 49, 99, 199, … ms without a reset.
  const random = mock.method(Math, 'random', () => 0.999);
  t.after(() => random.mock.restore());
  const h = await setup(
    t,
    { onAuth: (conn, auth, n) => (ready(conn, auth), n <= 6 && setTimeout(() => conn.ws.terminate(), 5)) },
    { reconnect: { minDelayMs: 50, maxDelayMs: 5000 } },
  );
  const started = Date.now();
  await h.client.connect();
  await until('seventh connection', () => h.readies === 7, 8000);
  // With resets: 6 × ~50 ms. Without: 49 + 99 + 199 + 399 + 799 + 1599 ms.
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
});

test('heartbeats: answers the server ping, pings when it has sent nothing for heartbeatSeconds', T, async (t) => {
  const h = await setup(t, { onAuth: (conn, auth) => ready(conn, auth, 0.05) });
  await h.client.connect();
  const c = h.server.conns[0]!;
  c.send({ t: 'ping' });
  await until('pong', () => c.ofType('pong').length === 1);
  await until('client ping', () => c.ofType('ping').length >= 1, 1000);
});

test('clicks go on the gateway when connected and over HTTP otherwise; device calls carry the device headers', T, async (t) => {
  const h = await setup(t);
  await h.client.connect();
  await h.client.reportClick('A');
  const c = h.server.conns[0]!;
  await until('click frame', () => c.ofType('click').length === 1);
  assert.deepEqual(c.ofType('click'), [{ t: 'click', id: 'A' }]);

  await h.client.disconnect();
  await h.client.reportClick('B');
  await h.client.bindUser('alice');
  const calls = h.server.requests.slice(1);
  assert.deepEqual(
    calls.map((r) => [r.method, r.path, r.body]),
    [
      ['POST', '/device/v1/click', { messageId: 'B' }],
      ['POST', '/device/v1/bind', { userId: 'alice' }],
    ],
  );
  for (const r of calls) {
    assert.equal(r.headers['x-herald-registration-id'], 'r_test');
    assert.equal(r.headers.authorization, 'Bearer cred-1');
    assert.equal(r.headers['x-herald-appkey'], 'app-key-1');
  }
});

test('unregister stops the connection, deletes the device and forgets the registration', T, async (t) => {
  const h = await setup(t);
  await h.client.connect();
  await h.client.unregister();
  assert.deepEqual(
    h.server.requests.map((r) => `${r.method} ${r.path}`),
    ['POST /device/v1/register', 'DELETE /device/v1/device'],
  );
  assert.equal(h.client.getRegistrationID(), undefined);
  assert.deepEqual(h.disconnects, [{ code: 1000, reason: 'client disconnect', willReconnect: false }]);
  await sleep(100);
  assert.equal(h.server.conns.length, 1, 'no reconnect');
});

test('Node defaults: file storage at storagePath and the ws package, both loaded on demand', T, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-client-'));
  const server = await startFakeServer();
  const storagePath = join(dir, 'device.json');
  const client = new HeraldClient({ server: server.url, sdkAppId: SDK_APP_ID, appKey: 'k', storagePath });
  t.after(async () => {
    await client.disconnect();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  await client.connect();
  const file = JSON.parse(await readFile(storagePath, 'utf8')) as Record<string, string>;
  const rec = JSON.parse(file[`herald:${SDK_APP_ID}`] ?? '{}') as { registration?: { credential?: string } };
  assert.equal(rec.registration?.credential, 'cred-1');
  assert.equal((registers(server)[0]!.body as { platform: string }).platform, 'node');
});
