import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, deviceCall, eventually, pushBody, RawDevice, registerDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

for (const db of await testDatabases()) {
  describe(`gateway (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let other: App;
    before(async () => {
      h = await startTestHerald(db, { HERALD_HEARTBEAT_SECONDS: '5' }, { gatewayTimeouts: { authMs: 400, deadAfterMs: 1200, pingAfterMs: 300 }, gatewayMaxBufferedBytes: 64 * 1024 });
      app = await h.createApp('a');
      other = await h.createApp('b');
    });
    after(async () => h.stop());

    const inboxRow = (registrationId: string, seq: number) =>
      h.herald.store.db.selectFrom('inbox').selectAll().where('app_id', '=', app.sdkAppId).where('registration_id', '=', registrationId).where('seq', '=', seq).executeTakeFirst();

    test('a connected device gets a msg frame, and its ack is stored as the reached time', async () => {
      const d = await registerDevice(h.url, app, { locale: 'en-US' });
      const dev = await RawDevice.connect(h.url, app, d);
      const ready = dev.frames[0];
      assert.equal(ready.t, 'ready');
      assert.equal(ready.registrationId, d.registrationId);
      assert.equal(ready.heartbeatSeconds, 5);
      const r = await admin(h.url, app, 'batch', pushBody([d.registrationId], { Title: 'Hi', Desc: 'there', Ext: '{"page":"x"}', BadgeSetNum: 3, MultiLanguageContent: [{ Language: 'en', Title: 'Hello', Desc: 'EN' }] }));
      const m = await dev.waitFor((f) => f.t === 'msg');
      assert.equal(m.id, r.TaskId);
      assert.equal(m.seq, 1);
      assert.equal(m.m.title, 'Hello');
      assert.equal(m.m.desc, 'EN');
      assert.equal(m.m.lang, 'en');
      assert.equal(m.m.ext, '{"page":"x"}');
      assert.equal(m.m.info.BadgeSetNum, 3);
      assert.equal(m.m.from, 'administrator');
      assert.ok(m.m.expiresAt - m.m.sentAt === 72 * 3600 * 1000);
      assert.equal((await inboxRow(d.registrationId, 1))?.acked_at, null);
      const before = Date.now();
      dev.send({ t: 'ack', seqs: [m.seq] });
      const row = await eventually(async () => (await inboxRow(d.registrationId, 1))?.acked_at);
      assert.ok(row >= before - 5 && row <= Date.now());
      // once its frames are handed to the router, the task is marked routed
      await eventually(() => h.herald.store.db.selectFrom('tasks').select('status').where('task_id', '=', r.TaskId).where('status', '=', 'routed').executeTakeFirst());
      dev.close();
    });

    test('messages sent while offline arrive on reconnect, in order, resuming after the last ack', async () => {
      const d = await registerDevice(h.url, app);
      const first = await RawDevice.connect(h.url, app, d);
      await admin(h.url, app, 'batch', pushBody([d.registrationId], { Title: 'm1' }));
      const m1 = await first.waitFor((f) => f.t === 'msg');
      first.send({ t: 'ack', seqs: [m1.seq] });
      await eventually(async () => (await inboxRow(d.registrationId, m1.seq))?.acked_at);
      first.close();
      await first.waitClosed();
      for (const t of ['m2', 'm3', 'm4']) await admin(h.url, app, 'batch', pushBody([d.registrationId], { Title: t }));
      // m2 reaches the device but its ack is lost: it must come again
      const second = await RawDevice.connect(h.url, app, d);
      await second.waitFor((f) => f.t === 'msg' && f.m.title === 'm4');
      assert.deepEqual(second.msgs().map((f) => f.m.title), ['m2', 'm3', 'm4']);
      second.send({ t: 'ack', seqs: [second.msgs()[1].seq, second.msgs()[2].seq] });
      await eventually(async () => (await inboxRow(d.registrationId, second.msgs()[2].seq))?.acked_at);
      second.close();
      await second.waitClosed();
      const third = await RawDevice.connect(h.url, app, d);
      await third.waitFor((f) => f.t === 'msg');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(third.msgs().map((f) => [f.m.title, f.seq]), [['m2', second.msgs()[0].seq]]);
      third.close();
    });

    test('concurrent pushes to one device are stored together and get distinct seqs, sent in increasing order', async () => {
      const d = await registerDevice(h.url, app);
      const dev = await RawDevice.connect(h.url, app, d);
      const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => admin(h.url, app, 'batch', pushBody([d.registrationId], { Title: `c${i}` }))));
      assert.equal(new Set(replies.map((r) => r.TaskId)).size, 40);
      // 40 pushes stored and routed: on a loaded machine this takes longer than eventually's 5 s default
      await eventually(async () => dev.msgs().length === 40, 20_000);
      const seqs = dev.msgs().map((f) => f.seq);
      assert.equal(new Set(seqs).size, 40);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
      assert.deepEqual(new Set(dev.msgs().map((f) => f.id)), new Set(replies.map((r) => r.TaskId)));
      dev.close();
    });

    test('PushFlag 1 reaches a connected device but never an offline one, and the loss is recorded', async () => {
      const on = await registerDevice(h.url, app);
      const off = await registerDevice(h.url, app);
      const dev = await RawDevice.connect(h.url, app, on);
      const r = await admin(h.url, app, 'batch', pushBody([on.registrationId, off.registrationId], { PushFlag: 1, Title: 'live' }));
      await dev.waitFor((f) => f.t === 'msg' && f.m.title === 'live');
      const offDev = await RawDevice.connect(h.url, app, off);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(offDev.msgs().length, 0);
      const losses = await h.herald.store.db.selectFrom('losses').selectAll().where('task_id', '=', r.TaskId).execute();
      assert.deepEqual(losses.map((l) => [l.registration_id, l.code]), [[off.registrationId, -3]]);
      dev.close();
      offDev.close();
    });

    test('a push to a user reaches all of their devices', async () => {
      const a = await registerDevice(h.url, app);
      const b = await registerDevice(h.url, app);
      for (const d of [a, b]) assert.equal((await deviceCall(h.url, app, 'POST', '/device/v1/bind', { userId: 'carol' }, d)).status, 200);
      const da = await RawDevice.connect(h.url, app, a);
      const r = await admin(h.url, app, 'batch', pushBody(['carol']));
      await da.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      const db2 = await RawDevice.connect(h.url, app, b);
      await db2.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      da.close();
      db2.close();
    });

    test('clicks on the gateway are stored', async () => {
      const d = await registerDevice(h.url, app);
      const dev = await RawDevice.connect(h.url, app, d);
      const r = await admin(h.url, app, 'batch', pushBody([d.registrationId]));
      await dev.waitFor((f) => f.t === 'msg');
      dev.send({ t: 'click', id: r.TaskId });
      await eventually(() => h.herald.store.db.selectFrom('clicks').selectAll().where('task_id', '=', r.TaskId).where('registration_id', '=', d.registrationId).executeTakeFirst());
      dev.close();
    });

    test('connecting records when the device was last seen and its SDK version', async () => {
      const d = await registerDevice(h.url, app);
      const dev = await RawDevice.open(h.url);
      dev.send({ t: 'auth', sdkAppId: app.sdkAppId, registrationId: d.registrationId, credential: d.credential, sdkVersion: 'herald-android/1.2.3' });
      await dev.waitFor((f) => f.t === 'ready');
      const row = await eventually(() =>
        h.herald.store.db.selectFrom('devices').select(['last_seen_at', 'sdk_version']).where('app_id', '=', app.sdkAppId).where('registration_id', '=', d.registrationId).where('last_seen_at', 'is not', null).executeTakeFirst(),
      );
      assert.equal(row.sdk_version, 'herald-android/1.2.3');
      dev.close();
    });

    test('a connection that never authenticates is closed with 4408', async () => {
      const dev = await RawDevice.open(h.url);
      assert.equal((await dev.waitClosed(3000)).code, 4408);
    });

    test('a silent device is closed with 4408; one that keeps talking stays', async () => {
      const quiet = await registerDevice(h.url, app);
      const chatty = await registerDevice(h.url, app);
      const q = await RawDevice.connect(h.url, app, quiet);
      const c = await RawDevice.connect(h.url, app, chatty);
      const talk = setInterval(() => c.send({ t: 'ping' }), 200);
      try {
        // the server pings the silent device before giving up on it
        await q.waitFor((f) => f.t === 'ping', 2000);
        assert.equal((await q.waitClosed(4000)).code, 4408);
        assert.equal(c.closed, null);
      } finally {
        clearInterval(talk);
        c.close();
      }
    });

    test('a device that stops reading is dropped, and gets everything in order when it reconnects', async () => {
      const d = await registerDevice(h.url, app);
      const desc = 'x'.repeat(8000);
      const ids: string[] = [];
      for (let i = 0; i < 300; i++) ids.push((await admin(h.url, app, 'batch', pushBody([d.registrationId], { Title: `s${i}`, Desc: desc }))).TaskId);
      const stuck = await RawDevice.open(h.url);
      (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      stuck.send({ t: 'auth', sdkAppId: app.sdkAppId, registrationId: d.registrationId, credential: d.credential });
      // it keeps talking, so only its unread frames can get it dropped
      const talk = setInterval(() => stuck.send({ t: 'ping' }), 200);
      try {
        await eventually(async () => h.herald.gateway.get(app.sdkAppId, d.registrationId));
        await eventually(async () => !h.herald.gateway.get(app.sdkAppId, d.registrationId));
      } finally {
        clearInterval(talk);
      }
      const other = await registerDevice(h.url, app);
      const bystander = await RawDevice.connect(h.url, app, other);
      const r = await admin(h.url, app, 'batch', pushBody([other.registrationId]));
      await bystander.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      bystander.close();
      const again = await RawDevice.connect(h.url, app, d);
      await again.waitFor((f) => f.t === 'msg' && f.id === ids[299], 10_000);
      assert.deepEqual(again.msgs().map((f) => f.id), ids);
      again.close();
      stuck.ws.terminate();
    });

    test('heartbeat: ping gets pong', async () => {
      const d = await registerDevice(h.url, app);
      const dev = await RawDevice.connect(h.url, app, d);
      dev.send({ t: 'ping' });
      await dev.waitFor((f) => f.t === 'pong');
      dev.close();
    });

    const badFrames: Array<[string, unknown, number]> = [
      ['not JSON', 'hello', 4400],
      ['unknown type', { t: 'dance' }, 4400],
      ['wrong field type', { t: 'auth', sdkAppId: 'x', registrationId: 'r', credential: 'c' }, 4400],
      ['msg before auth', { t: 'ack', seqs: [1] }, 4400],
      ['oversized frame', 'x'.repeat(17 * 1024), 1009],
    ];
    for (const [what, frame, code] of badFrames) {
      test(`${what} closes the connection with ${code}, others keep working`, async () => {
        const good = await registerDevice(h.url, app);
        const bystander = await RawDevice.connect(h.url, app, good);
        const bad = await RawDevice.open(h.url);
        bad.send(frame);
        assert.equal((await bad.waitClosed()).code, code);
        if (code === 4400) assert.equal(bad.frames.at(-1)?.t, 'error');
        const r = await admin(h.url, app, 'batch', pushBody([good.registrationId]));
        await bystander.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
        bystander.close();
      });
    }

    test('a bad credential, or a credential used under another app, is refused with 4401', async () => {
      const d = await registerDevice(h.url, app);
      const wrong = await RawDevice.open(h.url);
      wrong.send({ t: 'auth', sdkAppId: app.sdkAppId, registrationId: d.registrationId, credential: 'nope' });
      assert.equal((await wrong.waitClosed()).code, 4401);
      const cross = await RawDevice.open(h.url);
      cross.send({ t: 'auth', sdkAppId: other.sdkAppId, registrationId: d.registrationId, credential: d.credential });
      assert.equal((await cross.waitClosed()).code, 4401);
    });

    test('a second connection of the same device replaces the first with 4409', async () => {
      const d = await registerDevice(h.url, app);
      const first = await RawDevice.connect(h.url, app, d);
      const second = await RawDevice.connect(h.url, app, d);
      assert.equal((await first.waitClosed()).code, 4409);
      const r = await admin(h.url, app, 'batch', pushBody([d.registrationId]));
      await second.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      second.close();
    });

    test('unregistering closes the open connection with 4401', async () => {
      const d = await registerDevice(h.url, app);
      const dev = await RawDevice.connect(h.url, app, d);
      assert.equal((await deviceCall(h.url, app, 'DELETE', '/device/v1/device', undefined, d)).status, 200);
      assert.equal((await dev.waitClosed()).code, 4401);
    });

    test('a message that expires before the device connects is never sent and is recorded as a loss', async () => {
      const d = await registerDevice(h.url, app);
      const r = await admin(h.url, app, 'batch', pushBody([d.registrationId], {}, { ExpireTime: 1 }));
      await new Promise((r) => setTimeout(r, 1100));
      const dev = await RawDevice.connect(h.url, app, d);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(dev.msgs().length, 0);
      dev.close();
      const { sweepExpired } = await import('../src/dispatch/index.js');
      await sweepExpired(h.herald.store.db, h.herald.stats, Date.now(), 86400_000);
      const losses = await h.herald.store.db.selectFrom('losses').selectAll().where('task_id', '=', r.TaskId).execute();
      // the offline channel's own loss (-2, no vendor token) is recorded beside it
      // never handed to a session: lost before sending (-8), not after (-4)
      assert.deepEqual(losses.filter((l) => l.code === -8).map((l) => l.registration_id), [d.registrationId]);
      assert.deepEqual(losses.filter((l) => l.code === -2).map((l) => l.registration_id), [d.registrationId]);
    });
  });
}
