import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { callbackSign, unpackBody, type AllMemberPushEvent } from '../src/callbacks/index.js';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually, sleep, startTestHerald, type TestHerald } from './helpers/herald.js';

interface Received {
  at: number;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  events: Record<string, unknown>[];
  status: number;
  /** The answer reached Herald's side of the connection (not after it gave up). */
  answered: boolean;
}

/** What the endpoint does with its n-th request (0-based): answer with a status after a delay. */
type Behaviour = (n: number) => { status: number; delayMs?: number };

/** An app backend: a real HTTP server that records every callback request. */
class Endpoint {
  received: Received[] = [];
  behaviour: Behaviour = () => ({ status: 200 });
  private server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const u = new URL(req.url!, 'http://x');
      const b = this.behaviour(this.received.length);
      const r: Received = { at: Date.now(), path: u.pathname, query: u.searchParams, contentType: req.headers['content-type'], events: JSON.parse(raw).Events, status: b.status, answered: false };
      this.received.push(r);
      const reply = () => {
        if (res.destroyed) return;
        r.answered = true;
        res.writeHead(b.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(b.status === 200 ? { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0 } : { error: 'down' }));
      };
      if (b.delayMs) setTimeout(reply, b.delayMs);
      else reply();
    });
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook?from=herald`;
    return this;
  }

  /** Every event posted, delivered or not. */
  events(): Record<string, unknown>[] {
    return this.received.flatMap((r) => r.events);
  }

  /** The events of requests answered 200. */
  delivered(): Record<string, unknown>[] {
    return this.received.filter((r) => r.status === 200 && r.answered).flatMap((r) => r.events);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let seq = 0;
function events(n: number, tag: string): AllMemberPushEvent[] {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => ({
    EventType: i % 2 === 0 ? 1 : 2,
    TaskId: `task-${tag}`,
    DataId: `data-${tag}`,
    TaskTime: now - 5,
    EventTime: now,
    To_Account: `user-${i}`,
    RegistrationID: `${tag}-${seq++}`,
    PushPlatform: i % 9,
    DeviceType: i % 9,
    PushStage: ((i % 3) + 1) as 1 | 2 | 3,
    ErrCode: 0,
    ErrInfo: '',
  }));
}

const ids = (list: Record<string, unknown>[]) => list.map((e) => e.RegistrationID as string).sort();

test("Sign is Tencent's: hex sha256 of Token then RequestTime (their example)", () => {
  // cloud.tencent.com/document/product/269/117703: Token xxxxyyyy, RequestTime 1669872112
  const sign = callbackSign('xxxxyyyy', 1669872112);
  assert.match(sign, /^17773bc3[0-9a-f]{50}484061$/);
});

for (const db of await testDatabases()) {
  describe(`callbacks (${db.name})`, () => {
    let h: TestHerald;
    const endpoints: Endpoint[] = [];
    const endpoint = async () => {
      const e = await new Endpoint().start();
      endpoints.push(e);
      return e;
    };
    const outbox = () => h.herald.store.db.selectFrom('callback_outbox');
    const appWithCallback = async (name: string, e: Endpoint, extra: Record<string, unknown> = {}): Promise<App> => {
      const app = await h.createApp(name);
      const r = await admin(h.url, app, 'set_callback', { Url: e.url, ...extra });
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      return app;
    };
    const enqueue = (app: App, list: object[]) => h.herald.store.db.transaction().execute((tx) => h.herald.callbacks.enqueue(tx, app.sdkAppId, 'Push.AllMemberPush', list));

    before(async () => {
      // the default hold: these tests store far fewer events a second than make the process busy, so nothing waits
      h = await startTestHerald(db, { HERALD_CALLBACK_TIMEOUT_SECONDS: '0.3' }, { callbacks: { backoff: { firstMs: 100, maxMs: 400 }, pollMs: 50 } });
    });
    after(async () => {
      await h.stop();
      await Promise.all(endpoints.map((e) => e.stop()));
    });

    test("set_callback and get_callback: Tencent's envelope on bad input, the token masked, each app its own", async () => {
      const app = await h.createApp('settings');
      const other = await h.createApp('other');
      const call = (body: unknown, a = app) => admin(h.url, a, 'set_callback', body);
      assert.deepEqual(await admin(h.url, app, 'get_callback', {}), { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, Url: '', Token: '', Enabled: 0, MaxPerSecond: 0, Pending: 0, PendingEvents: 0, Dead: 0, DeadEvents: 0, LastError: '' });
      const refused: [string, unknown, RegExp][] = [
        ['not http', { Url: 'ftp://example.com/hook' }, /^Url: must be an http or https URL/],
        ['not a URL', { Url: 'example.com/hook' }, /^Url/],
        ['token too long', { Url: 'https://example.com/hook', Token: 'x'.repeat(129) }, /^Token: at most 128 characters/],
        ['unknown field', { URL: 'https://example.com/hook' }, /URL/],
        ['on without a URL', { Enabled: 1 }, /^Url: a callback URL is needed/],
        ['pace not a whole number', { Url: 'https://example.com/hook', MaxPerSecond: 1.5 }, /^MaxPerSecond/],
        ['pace negative', { Url: 'https://example.com/hook', MaxPerSecond: -1 }, /^MaxPerSecond/],
        ['retry and drop', { RetryDead: 1, DropDead: 1 }, /together/],
      ];
      for (const [what, body, info] of refused) {
        const r = await call(body);
        assert.deepEqual([r.ActionStatus, r.ErrorCode], ['FAIL', 90001], what);
        assert.match(r.ErrorInfo, info, what);
      }
      assert.equal((await admin(h.url, app, 'set_callback', undefined, { rawBody: '{"Url":' })).ErrorCode, 90001);
      assert.equal((await admin(h.url, app, 'set_callback', { Url: 'https://example.com/hook' }, { identifier: 'bob' })).ErrorCode, 90009, 'admin only');
      assert.equal(await h.herald.callbacks.wants(app.sdkAppId), false);

      const token = 'k'.repeat(16) + 'wxyz';
      const set = await call({ Url: 'https://backend.example.com/hook?a=1', Token: token, MaxPerSecond: 50 });
      assert.deepEqual([set.ActionStatus, set.Url, set.Token, set.Enabled, set.MaxPerSecond], ['OK', 'https://backend.example.com/hook?a=1', '****wxyz', 1, 50]);
      assert.equal(await h.herald.callbacks.wants(app.sdkAppId), true);
      assert.equal(JSON.stringify(await admin(h.url, app, 'get_callback', {})).includes(token), false, 'the token is never shown');
      // the masked token sent back keeps the stored one, as a console would send it
      assert.equal((await call({ Token: '****wxyz', Enabled: 0 })).Enabled, 0);
      assert.equal(await h.herald.callbacks.wants(app.sdkAppId), false);
      const stored = await h.herald.store.db.selectFrom('apps').select('settings').where('sdk_app_id', '=', app.sdkAppId).executeTakeFirstOrThrow();
      assert.equal(JSON.parse(stored.settings).callback.token, token);
      assert.equal((await call({ Token: '' })).Token, '', "'' removes the token");
      assert.equal((await call({ MaxPerSecond: 0 })).MaxPerSecond, 0, "0 = Herald's default");

      assert.equal((await admin(h.url, other, 'get_callback', {})).Url, '', 'apps are walls');
      assert.equal(await h.herald.callbacks.wants(other.sdkAppId), false);
    });

    test("asked and written inside the caller's transaction, as the statistics recorder does", { timeout: 10_000 }, async () => {
      const e = await endpoint();
      const app = await appWithCallback('in-tx', e);
      const list = events(3, 'tx');
      await h.restart(); // a cold cache: the answer is read through the transaction, which holds SQLite's only connection
      await h.herald.store.db.transaction().execute(async (tx) => {
        assert.equal(await h.herald.callbacks.wants(app.sdkAppId, tx), true);
        await h.herald.callbacks.enqueue(tx, app.sdkAppId, 'Push.AllMemberPush', list);
      });
      await eventually(async () => e.delivered().length === 3);
      await assert.rejects(
        h.herald.store.db.transaction().execute(async (tx) => {
          await h.herald.callbacks.enqueue(tx, app.sdkAppId, 'Push.AllMemberPush', events(2, 'rolled-back'));
          throw new Error('rolled back');
        }),
      );
      await sleep(300);
      assert.deepEqual(ids(e.events()), ids(list), 'a rolled-back batch is never posted');
    });

    test("events are posted signed, with Tencent's query, in requests of at most 100, each app to its own URL only", async () => {
      const ea = await endpoint();
      const eb = await endpoint();
      const token = crypto.randomBytes(24).toString('hex');
      const a = await appWithCallback('signed', ea, { Token: token });
      const b = await appWithCallback('unsigned', eb);
      const forA = events(250, 'a');
      const forB = events(3, 'b');
      await enqueue(a, forA);
      await enqueue(b, forB);
      await eventually(async () => ea.delivered().length >= 250 && eb.delivered().length >= 3);
      await sleep(200); // nothing more arrives

      assert.deepEqual(ids(ea.events()), ids(forA), 'every event once, and only its own app');
      assert.deepEqual(ids(eb.events()), ids(forB));
      assert.deepEqual(ea.received.map((r) => r.events.length).sort((x, y) => x - y), [50, 100, 100]);
      for (const r of ea.received) {
        assert.equal(r.path, '/hook');
        assert.equal(r.contentType, 'application/json');
        assert.deepEqual([r.query.get('from'), r.query.get('SdkAppid'), r.query.get('CallbackCommand'), r.query.get('contenttype')], ['herald', String(a.sdkAppId), 'Push.AllMemberPush', 'json']);
        const time = Number(r.query.get('RequestTime'));
        assert.ok(Math.abs(time - Date.now() / 1000) < 60, 'RequestTime is now, in seconds');
        assert.equal(r.query.get('Sign'), crypto.createHash('sha256').update(token + r.query.get('RequestTime')).digest('hex'));
      }
      const first = ea.received[0]!.events[0]!;
      assert.equal(Object.keys(first)[0], 'CallbackCommand', 'CallbackCommand leads each event, as in Tencent’s sample');
      const sent = forA.find((e) => e.RegistrationID === first.RegistrationID)!;
      assert.deepEqual(first, { CallbackCommand: 'Push.AllMemberPush', ...sent });
      for (const r of eb.received) {
        assert.deepEqual([r.query.get('SdkAppid'), r.query.has('Sign'), r.query.has('RequestTime')], [String(b.sdkAppId), false, false]);
      }
      assert.equal(Number((await outbox().select((e) => e.fn.countAll<number>().as('n')).where('app_id', 'in', [a.sdkAppId, b.sdkAppId]).executeTakeFirstOrThrow()).n), 0, 'delivered rows are gone');
    });

    test('a failing endpoint is retried with growing back-off; a slow one times out and is retried; neither holds another app', async () => {
      const failing = await endpoint();
      failing.behaviour = (n) => ({ status: n < 3 ? 500 : 200 });
      const slow = await endpoint();
      slow.behaviour = (n) => ({ status: 200, delayMs: n === 0 ? 1500 : 0 });
      const hanging = await endpoint();
      hanging.behaviour = () => ({ status: 200, delayMs: 5000 });
      const fast = await endpoint();
      const fa = await appWithCallback('failing', failing);
      const sl = await appWithCallback('slow', slow);
      const hg = await appWithCallback('hanging', hanging);
      const ok = await appWithCallback('fast', fast);

      // five rows: a row's requests go one after another, so it takes several rows to fill the app's four at once
      for (let i = 0; i < 5; i++) await enqueue(hg, events(100, 'hang'));
      await eventually(async () => hanging.received.length > 0);
      const fe = events(2, 'fail');
      await enqueue(fa, fe);
      await enqueue(sl, events(1, 'slow'));
      const t0 = Date.now();
      await enqueue(ok, events(1, 'fast'));
      await eventually(async () => fast.received.length === 1);
      assert.ok(Date.now() - t0 < 1000, `another app's hanging and failing endpoints do not hold this one (${Date.now() - t0} ms)`);

      await eventually(async () => (await admin(h.url, fa, 'get_callback', {})).LastError.startsWith('HTTP 500'));
      await eventually(async () => failing.received.length >= 4, 5000);
      await sleep(300);
      assert.equal(failing.received.length, 4, 'three failures, then delivered once');
      assert.deepEqual(ids(failing.received[3]!.events), ids(fe), 'the same request body each time');
      const gaps = failing.received.slice(1).map((r, i) => r.at - failing.received[i]!.at);
      // 100 ms doubling, each drawn from the upper half of its step
      gaps.forEach((g, i) => assert.ok(g >= 50 * 2 ** i - 15, `gap ${i} is ${g} ms`));
      assert.ok(gaps[2]! > gaps[0]!, `back-off grows: ${gaps}`);
      assert.equal((await admin(h.url, fa, 'get_callback', {})).Pending, 0);

      await eventually(async () => slow.received.length >= 2, 5000);
      assert.ok(slow.received[1]!.at - slow.received[0]!.at >= 300, 'the first request was given up after the 0.3 s timeout');
      assert.deepEqual(ids(slow.received[1]!.events), ids(slow.received[0]!.events));
      await eventually(async () => (await admin(h.url, sl, 'get_callback', {})).Pending === 0);

      // the hanging app: at most one request at a time while it fails, and nothing lost
      const status = await admin(h.url, hg, 'get_callback', {});
      assert.deepEqual([status.Pending, status.PendingEvents], [5, 500]);
      assert.match(status.LastError, /no answer in time/);
      // the first four at once (the app's concurrency), then one probe at a time: each after the last timed out
      const after4 = hanging.received.slice(4).map((r, i) => r.at - hanging.received[i + 3]!.at);
      assert.ok(after4.every((g) => g >= 300 - 15), `a failing endpoint is probed, not flooded: ${after4}`);
      await admin(h.url, hg, 'set_callback', { Enabled: 0 });
    });

    test('a row of more than 100 events goes as requests of 100 in order; after a failure, and across a restart, it goes on where it stopped', async () => {
      const e = await endpoint();
      let down = false;
      e.behaviour = (n) => ({ status: n === 2 || down ? 503 : 200 });
      const app = await appWithCallback('long-row', e);
      const list = events(450, 'long');
      await enqueue(app, list);
      assert.equal(Number((await outbox().select((o) => o.fn.countAll<number>().as('n')).where('app_id', '=', app.sdkAppId).executeTakeFirstOrThrow()).n), 1, 'one row');
      await eventually(async () => e.received.length >= 3);
      down = true; // the retry fails too, and the row waits with what it delivered
      await eventually(async () => e.received.length >= 4);
      const status = await admin(h.url, app, 'get_callback', {});
      assert.deepEqual([status.Pending, status.PendingEvents], [1, 250], 'two requests delivered, 250 events to go');
      await h.restart();
      down = false;
      await eventually(async () => e.delivered().length >= 450, 8000);
      await sleep(200);
      const first = (r: Received) => r.events[0]!.RegistrationID;
      const ok = e.received.filter((r) => r.status === 200 && r.answered);
      assert.deepEqual(ok.map((r) => r.events.length), [100, 100, 100, 100, 50]);
      assert.deepEqual(ok.map(first), [0, 100, 200, 300, 400].map((i) => list[i]!.RegistrationID), 'in order, none posted again once delivered');
      assert.deepEqual([...new Set(e.received.filter((r) => r.status !== 200).map(first))], [list[200]!.RegistrationID], 'only the failed request was tried again');
      assert.deepEqual(e.delivered().map((x) => x.RegistrationID), list.map((x) => x.RegistrationID), 'every event delivered once, in order');
      assert.equal((await admin(h.url, app, 'get_callback', {})).Pending, 0);
    });

    test('a row whose lease is half spent is given back with its progress and taken again, so no request is posted twice', async () => {
      // a 600 ms lease and requests answered in 150 ms: a row of five requests outlives its lease
      const slow = await startTestHerald(db, {}, { callbacks: { pollMs: 50, leaseMs: 600 } });
      try {
        const e = await endpoint();
        e.behaviour = () => ({ status: 200, delayMs: 150 });
        const app = await slow.createApp('lease');
        await admin(slow.url, app, 'set_callback', { Url: e.url });
        const list = events(500, 'lease');
        await slow.herald.store.db.transaction().execute((tx) => slow.herald.callbacks.enqueue(tx, app.sdkAppId, 'Push.AllMemberPush', list));
        await eventually(async () => e.delivered().length >= 500, 8000);
        await sleep(300);
        assert.deepEqual(e.received.map((r) => r.events.length), [100, 100, 100, 100, 100], 'five requests, none twice');
        assert.deepEqual(e.delivered().map((x) => x.RegistrationID), list.map((x) => x.RegistrationID));
      } finally {
        await slow.stop();
      }
    });

    test('rows still waiting when Herald closes are delivered after it starts again on the same store', async () => {
      const e = await endpoint();
      e.behaviour = () => ({ status: 503 });
      const app = await appWithCallback('restart', e, { Token: 'restart-token' });
      const tried = events(150, 'tried');
      await enqueue(app, tried);
      await eventually(async () => e.received.length >= 1);
      await h.restart();
      const untried = events(20, 'untried');
      await enqueue(app, untried);
      await h.restart(); // closed at once: these rows were never posted, or given back on close
      e.behaviour = () => ({ status: 200 });
      const t0 = Date.now();
      await eventually(async () => new Set(ids(e.delivered())).size >= 170, 8000);
      assert.ok(Date.now() - t0 < 5000, 'leases were given back on close, not left to expire');
      const delivered = new Set(ids(e.delivered()));
      for (const id of ids([...tried, ...untried])) assert.ok(delivered.has(id), `${id} delivered`);
      await eventually(async () => (await admin(h.url, app, 'get_callback', {})).Pending === 0);
      const last = e.received.at(-1)!;
      assert.equal(last.query.get('Sign'), callbackSign('restart-token', Number(last.query.get('RequestTime'))), 'still signed after the restart');
    });

    test('a row still failing after the retry bound is kept as dead, counted, and can be retried or dropped', async () => {
      const e = await endpoint();
      e.behaviour = () => ({ status: 500 });
      const app = await appWithCallback('dead', e, { Enabled: 0 });
      const list = events(7, 'dead');
      await enqueue(app, list);
      // stored 25 hours ago: past the default 24 h bound (written while off, so no attempt came first)
      await h.herald.store.db.updateTable('callback_outbox').set({ created_at: Date.now() - 25 * 3600_000 }).where('app_id', '=', app.sdkAppId).execute();
      await admin(h.url, app, 'set_callback', { Enabled: 1 });
      await eventually(async () => (await admin(h.url, app, 'get_callback', {})).Dead === 1);
      const status = await admin(h.url, app, 'get_callback', {});
      assert.deepEqual([status.Pending, status.Dead, status.DeadEvents], [0, 1, 7]);
      assert.match(status.LastError, /^HTTP 500/);
      const row = await outbox().selectAll().where('app_id', '=', app.sdkAppId).executeTakeFirstOrThrow();
      assert.deepEqual([row.status, Number(row.attempts), row.lease_owner], ['dead', 1, null]);
      assert.deepEqual(ids(JSON.parse(unpackBody(row.body)).Events), ids(list), 'the events are kept');
      const seen = e.received.length;
      await sleep(400);
      assert.equal(e.received.length, seen, 'a dead row is not posted');
      const metrics = await (await fetch(`${h.url}/metrics`)).text();
      assert.match(metrics, /herald_callback_outbox_rows\{status="dead"\} [1-9]/);
      assert.match(metrics, /herald_callback_requests_total\{outcome="dead"\} [1-9]/);

      e.behaviour = () => ({ status: 200 });
      const retried = await admin(h.url, app, 'set_callback', { RetryDead: 1 });
      assert.deepEqual([retried.Retried, retried.Dead], [1, 0]);
      await eventually(async () => e.delivered().length === 7);
      await eventually(async () => (await admin(h.url, app, 'get_callback', {})).Pending === 0);

      e.behaviour = () => ({ status: 500 });
      await enqueue(app, events(1, 'dead2'));
      await h.herald.store.db.updateTable('callback_outbox').set({ created_at: 0 }).where('app_id', '=', app.sdkAppId).execute();
      await eventually(async () => (await admin(h.url, app, 'get_callback', {})).Dead === 1);
      assert.deepEqual([(await admin(h.url, app, 'set_callback', { DropDead: 1 })).Dropped, (await admin(h.url, app, 'get_callback', {})).Dead], [1, 0]);
    });

    test("each app's pace holds (MaxPerSecond), and a paced app does not slow another", async () => {
      const paced = await endpoint();
      const free = await endpoint();
      const p = await appWithCallback('paced', paced, { MaxPerSecond: 4 });
      const f = await appWithCallback('free', free);
      await enqueue(p, events(600, 'paced'));
      const t0 = Date.now();
      await enqueue(f, events(600, 'free'));
      await eventually(async () => free.received.length === 6);
      assert.ok(Date.now() - t0 < 1000, 'the other app is not paced');
      await eventually(async () => paced.received.length === 6, 5000);
      const times = paced.received.map((r) => r.at);
      // arrival times, so a loaded machine's scheduling jitter is allowed for; unpaced, all six arrive within a few ms
      const jitter = 150;
      assert.ok(times[5]! - times[0]! >= 1250 - jitter, `6 requests at 4 a second take 1.25 s at least (${times[5]! - times[0]!} ms)`);
      for (let i = 0; i + 4 < times.length; i++) assert.ok(times[i + 4]! - times[i]! >= 1000 - jitter, `no 5 requests within a second (${times.map((t) => t - times[0]!).join(', ')})`);
    });

    test('off: the rows wait and nothing is posted; on again: they are delivered', async () => {
      const e = await endpoint();
      const app = await appWithCallback('switch', e);
      await admin(h.url, app, 'set_callback', { Enabled: 0 });
      assert.equal(await h.herald.callbacks.wants(app.sdkAppId), false);
      const list = events(5, 'off');
      await enqueue(app, list); // a batch already counted when it was switched off
      await sleep(400);
      assert.equal(e.received.length, 0);
      assert.equal((await admin(h.url, app, 'get_callback', {})).Pending, 1);
      assert.equal((await admin(h.url, app, 'set_callback', { Enabled: 1 })).Enabled, 1);
      await eventually(async () => e.delivered().length === 5);
      assert.deepEqual(ids(e.delivered()), ids(list));
    });

    /** A server whose sender counts 1,000 events a second as busy; rows of 100 events stored every 20 ms for `ms`, as a push being delivered stores them. */
    async function producing(hold: number | undefined, ms: number, check: (e: Endpoint, stopped: number, stored: () => Promise<number>) => Promise<void>): Promise<void> {
      const busy = await startTestHerald(db, {}, { callbacks: { pollMs: 50, busyEventsPerSecond: 1000, ...(hold === undefined ? {} : { deferWhileBusyMs: hold }) } });
      try {
        const e = await endpoint();
        const app = await busy.createApp('busy');
        await admin(busy.url, app, 'set_callback', { Url: e.url });
        const end = Date.now() + ms;
        while (Date.now() < end) {
          await busy.herald.store.db.transaction().execute((tx) => busy.herald.callbacks.enqueue(tx, app.sdkAppId, 'Push.AllMemberPush', events(100, 'busy')));
          await sleep(20);
        }
        const stopped = Date.now();
        const waiting = async () => Number((await busy.herald.store.db.selectFrom('callback_outbox').select((eb) => eb.fn.countAll().as('n')).where('app_id', '=', app.sdkAppId).executeTakeFirstOrThrow()).n);
        await check(e, stopped, async () => (await waiting()) + e.received.length);
      } finally {
        await busy.stop();
      }
    }

    test('delivery first: while events keep being stored the young rows wait, and they go once the push is out', async () => {
      await producing(undefined, 1500, async (e, stopped, stored) => {
        const early = e.received.filter((r) => r.at < stopped).length;
        const total = await stored();
        assert.ok(early <= total / 4, `${early} of ${total} requests were posted while events were still being stored`);
        await eventually(async () => e.delivered().length === total * 100);
      });
    });

    test('under production that never pauses, a row goes once it is older than the hold', async () => {
      await producing(300, 1500, async (e) => {
        assert.ok(e.received.length > 0, 'rows older than the hold were posted while production went on');
      });
    });
  });
}
