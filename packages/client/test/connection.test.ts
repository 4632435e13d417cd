import assert from 'node:assert/strict';
import { afterEach, mock, test } from 'node:test';
import { GatewayConnection, type ConnectionEvents } from '../src/connection.js';
import type { PushMessage, WebSocketLike } from '../src/types.js';

type Listener = (ev: never) => void;

/** Just enough of a WebSocket to drive GatewayConnection by hand. */
class FakeSocket implements WebSocketLike {
  static last: FakeSocket | undefined;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  closedWith: Array<[number | undefined, string | undefined]> = [];
  terminated = false;
  private listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    FakeSocket.last = this;
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number, reason?: string): void {
    this.closedWith.push([code, reason]);
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  fire(type: string, ev?: unknown): void {
    for (const l of this.listeners.get(type) ?? []) (l as (e: unknown) => void)(ev);
  }
  open(): void {
    this.readyState = 1;
    this.fire('open');
  }
  receive(frame: unknown): void {
    this.fire('message', { data: JSON.stringify(frame) });
  }
  types(): unknown[] {
    return this.sent.map((f) => f.t);
  }
}

function recorder() {
  const log: { closes: Array<[number, string]>; messages: PushMessage[]; revokes: string[]; ready: number } = {
    closes: [],
    messages: [],
    revokes: [],
    ready: 0,
  };
  const events: ConnectionEvents = {
    onReady: () => void log.ready++,
    onMessage: (m) => void log.messages.push(m),
    onRevoke: (id) => void log.revokes.push(id),
    onClose: (code, reason) => void log.closes.push([code, reason]),
    onProtocolError: () => undefined,
  };
  return { log, events };
}

function open(heartbeatSeconds = 30) {
  const { log, events } = recorder();
  const conn = new GatewayConnection({
    WebSocket: FakeSocket,
    url: 'ws://h/gateway/v1',
    sdkAppId: 1400000001,
    registrationId: 'r_1',
    credential: 'c_1',
    heartbeatSeconds,
    events,
  });
  const ws = FakeSocket.last;
  assert.ok(ws);
  return { conn, ws, log };
}

afterEach(() => {
  // Report a close on every socket so no connection keeps a real timer alive.
  for (const ws of FakeSocket.all.splice(0)) ws.fire('close', { code: 1000, reason: '' });
  mock.timers.reset();
});

/** Node 20's mock clock jumps straight to the end of a tick, so advance 1 ms at a time. */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) mock.timers.tick(1);
}

test('sends auth first, then parses ready, msg and revoke frames', () => {
  const { ws, log, conn } = open();
  ws.open();
  assert.deepEqual(ws.sent[0], {
    t: 'auth',
    sdkAppId: 1400000001,
    registrationId: 'r_1',
    credential: 'c_1',
    sdkVersion: 'herald-js/0.1.0',
  });
  assert.equal(conn.isReady, false);
  assert.equal(conn.sendAck([1]), false, 'no acks before ready');
  ws.receive({ t: 'ready', registrationId: 'r_1', heartbeatSeconds: 30, serverTime: 1 });
  assert.equal(log.ready, 1);
  ws.receive({
    t: 'msg',
    seq: 5,
    id: 'batch_1',
    m: { title: 'T', desc: 'D', ext: '{}', sentAt: 10, expiresAt: 20, info: { PushFlag: 0 }, extra: 1 },
  });
  ws.receive({ t: 'msg', seq: -1, id: 'bad', m: {} });
  ws.receive({ t: 'revoke', id: 'batch_1' });
  ws.receive({ t: 'some_future_frame' });
  assert.deepEqual(log.messages, [
    { id: 'batch_1', seq: 5, title: 'T', desc: 'D', ext: '{}', sentAt: 10, expiresAt: 20, info: { PushFlag: 0 } },
  ]);
  assert.deepEqual(log.revokes, ['batch_1']);
  assert.equal(conn.sendAck([5]), true);
  assert.deepEqual(ws.sent.at(-1), { t: 'ack', seqs: [5] });
});

test('heartbeat: ping after heartbeatSeconds of not sending, pong to a server ping, dead after 2×hb+10 s of silence', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const { ws, log } = open(30);
  ws.open();
  ws.receive({ t: 'ready', registrationId: 'r_1', heartbeatSeconds: 10, serverTime: 0 });
  assert.deepEqual(ws.types(), ['auth']);

  advance(9_999);
  assert.deepEqual(ws.types(), ['auth']);
  advance(1);
  assert.deepEqual(ws.types(), ['auth', 'ping'], 'ping once nothing was sent for 10 s (ready heartbeat wins)');

  ws.receive({ t: 'ping' });
  assert.deepEqual(ws.types(), ['auth', 'ping', 'pong']);

  // Last traffic from the server at t=10 000; dead at 10 000 + 2×10 000 + 10 000.
  advance(29_999);
  assert.deepEqual(log.closes, []);
  assert.equal(ws.terminated, false);
  advance(1);
  assert.deepEqual(log.closes, [[4408, 'heartbeat timeout']]);
  assert.equal(ws.terminated, true, 'a dead socket is dropped, not closed politely');
  const pings = ws.types().filter((t) => t === 'ping').length;
  assert.equal(pings, 3, 'kept pinging every 10 s meanwhile');
});

test('before ready there are no pings, but a silent socket still times out', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const { ws, log } = open(5);
  advance(19_999);
  assert.deepEqual(log.closes, []);
  advance(1);
  assert.deepEqual(log.closes, [[4408, 'heartbeat timeout']]);
  assert.deepEqual(ws.sent, []);
});

test('frames do not arm timers: one timer per connection', () => {
  const { ws, conn } = open(30);
  ws.open();
  ws.receive({ t: 'ready', registrationId: 'r_1', heartbeatSeconds: 30, serverTime: 0 });
  const spy = mock.method(globalThis, 'setTimeout');
  try {
    for (let i = 0; i < 1000; i++) ws.receive({ t: 'pong' });
    for (let i = 1; i <= 100; i++) conn.sendAck([i]);
    assert.equal(spy.mock.callCount(), 0);
  } finally {
    spy.mock.restore();
    void conn.close();
    ws.fire('close', { code: 1000, reason: '' });
  }
});

test('close() resolves when the socket reports the close; the close is reported once', async () => {
  const { ws, conn, log } = open();
  ws.open();
  const closed = conn.close(1000, 'bye');
  assert.deepEqual(ws.closedWith, [[1000, 'bye']]);
  ws.fire('close', { code: 1000, reason: 'bye' });
  ws.fire('close', { code: 1006, reason: '' });
  await closed;
  assert.deepEqual(log.closes, [[1000, 'bye']]);
});

test('the server error frame text becomes the close reason when the close has none', () => {
  const { ws, log } = open();
  ws.open();
  ws.receive({ t: 'error', code: 'invalid_frame', message: 'seqs: too big' });
  ws.fire('close', { code: 4400, reason: '' });
  assert.deepEqual(log.closes, [[4400, 'invalid_frame: seqs: too big']]);
});
