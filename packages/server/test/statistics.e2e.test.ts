import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { XiaomiEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, ackingDevice, deviceCall, broadcastBody, eventually, makeDevice, pushBody, RawDevice, registerDevice, sleep, startTestHerald, stopWithEmulator, type TestHerald } from './helpers/herald.js';

type Row = { EventType: number; PushPlatform: number; TotalCount: number; SentCount: number; DeliveredCount: number; ClickCount: number };
type Loss = { ErrCode: number; ErrCount: number; ErrInfo: string };

for (const db of await testDatabases()) {
  describe(`statistics: funnel, losses and rates (${db.name})`, () => {
    let h: TestHerald;
    let emu: XiaomiEmulator;
    let app: App;
    const call = (command: string, body: unknown, a: App = app) => admin(h.url, a, command, body);
    const now = () => Math.floor(Date.now() / 1000);
    const window = (taskIds?: string[]) => ({ StartTime: now() - 3600, EndTime: now() + 60, ...(taskIds ? { TaskID: taskIds } : {}) });
    const xiaomi = (token: string) => registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token });

    before(async () => {
      emu = new XiaomiEmulator();
      await emu.start();
      // expired rows are swept every 200 ms, so a push's losses are all counted soon after it expires
      h = await startTestHerald(db, {}, { taskPollMs: 100, sweepIntervalMs: 200 });
      app = await h.createApp('stats');
      const cert = await call('set_certificate', { Vendor: 'xiaomi', Name: 'mi', Config: { ...emu.app('com.example.stats'), baseUrl: emu.base } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
    });
    after(() => stopWithEmulator(h, emu));

    /** The identities every finished task keeps, per channel: sendable = sent + ready-to-send losses; sent = reached + post-send losses + not yet known. */
    function assertAddsUp(rows: Row[], losses: { PlatformReadyToSendLoss: (Loss & Row)[]; PlatformPostSendDeliveredLoss: (Loss & Row)[] }, unknown: Record<number, number> = {}) {
      for (const eventType of [1, 2]) {
        const sum = (list: { EventType: number }[], f: (x: any) => number) => list.filter((x) => x.EventType === eventType).reduce((n, x) => n + f(x), 0);
        const sendable = sum(rows, (r) => r.TotalCount);
        const sent = sum(rows, (r) => r.SentCount);
        const reached = sum(rows, (r) => r.DeliveredCount);
        const ready = sum(losses.PlatformReadyToSendLoss, (l) => l.ErrCount);
        const post = sum(losses.PlatformPostSendDeliveredLoss, (l) => l.ErrCount);
        assert.equal(sendable, sent + ready, `EventType ${eventType}: sendable ${sendable} = sent ${sent} + ready-to-send losses ${ready}`);
        assert.equal(sent, reached + post + (unknown[eventType] ?? 0), `EventType ${eventType}: sent ${sent} = reached ${reached} + post-send losses ${post} + unknown ${unknown[eventType] ?? 0}`);
      }
    }

    test('a single push to online, offline, vendor, invalid-token and token-less devices: every counter, rate and loss reason, and the numbers add up', async () => {
      const onA = await makeDevice(h.url, app, { user: 'ann' });
      const onB = await makeDevice(h.url, app, { user: 'bob' });
      const miOk = await xiaomi('st-mi-ok');
      const miGone = await xiaomi('st-mi-gone');
      emu.invalidate('st-mi-gone');
      const bare = await makeDevice(h.url, app);
      const reader = await ackingDevice(h.url, app, onA);
      const silent = await RawDevice.connect(h.url, app, onB); // gets the message, never acks it
      try {
        const ids = [onA, onB, miOk, miGone, bare].map((d) => d.registrationId);
        const r = await call('batch', pushBody(ids, { Title: 'hi' }, { ExpireTime: 2 }));
        assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
        await reader.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
        await silent.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
        reader.send({ t: 'click', id: r.TaskId });
        await eventually(async () => emu.received.some((x) => x.fields['extra.callback.param'] === r.TaskId));
        await emu.deliverReceipts();
        // past the expiry: the unacked rows are swept into losses
        await sleep(2300);
        await eventually(async () => (await h.herald.store.db.selectFrom('inbox').select('seq').where('task_id', '=', r.TaskId).where('acked_at', 'is', null).execute()).length === 0);
        await h.herald.flush();

        const stats = await call('all_member_push_statistics', window([r.TaskId]));
        assert.equal(stats.ActionStatus, 'OK', JSON.stringify(stats));
        const [res] = stats.Results;
        // gateway: 5 rows, 2 handed to sessions, 1 acked and clicked; vendor: 3 offline devices, 2 sent to Xiaomi, 1 receipt
        assert.deepEqual([res.TaskID, res.TotalCount, res.SentCount, res.DeliveredCount, res.ClickCount], [r.TaskId, 8, 4, 2, 1]);
        assert.deepEqual([res.SendRate, res.ReachRate, res.ClickRate], [0.5, 0.5, 0.5]);
        const rows: Row[] = res.PlatformStatistics;
        assert.deepEqual(
          rows.map((x) => [x.EventType, x.PushPlatform, x.TotalCount, x.SentCount, x.DeliveredCount, x.ClickCount]),
          [
            [1, 0, 1, 0, 0, 0],
            [1, 2, 2, 2, 1, 0],
            [2, 0, 5, 2, 1, 1],
          ],
        );

        const loss = (await call('all_member_push_loss', window([r.TaskId]))).Results[0];
        assert.deepEqual(loss.ReadyToSendLoss.map((l: Loss) => [l.ErrCode, l.ErrCount]), [[-8, 3], [-2, 1]], 'three rows never handed over before expiry; one device without a token');
        assert.deepEqual(loss.PostSendDeliveredLoss.map((l: Loss) => [l.ErrCode, l.ErrCount]).sort(), [[-4, 1], [16, 1]].sort(), 'one message sent and never acked; one regId Xiaomi called invalid');
        assert.match(loss.PostSendDeliveredLoss.find((l: Loss) => l.ErrCode === 16).ErrInfo, /xiaomi receipt/);
        assert.deepEqual([loss.ReadyToSendLossRate, loss.PostSendLossRate], [0.5, 0.5]);
        assert.deepEqual(
          loss.PlatformReadyToSendLoss.map((l: Loss & Row) => [l.EventType, l.PushPlatform, l.ErrCode, l.ErrCount]).sort(),
          [
            [1, 0, -2, 1],
            [2, 0, -8, 3],
          ].sort(),
        );
        assertAddsUp(rows, loss);

        // get_push_task shows the same funnel and the vendor's share
        const task = (await call('get_push_task', { TaskId: r.TaskId })).Task;
        assert.deepEqual(task.Funnel, { Sendable: 8, Sent: 4, Reached: 2, Clicked: 1, SendRate: 0.5, ReachRate: 0.5, ClickRate: 0.5 });
        assert.deepEqual(task.Vendors, [{ Vendor: 'xiaomi', Sent: 2, Reached: 1 }]);
      } finally {
        reader.close();
        silent.close();
      }
    });

    test('all-users pushes: the audience that never connects is lost on the gateway channel at expiry (-8), online-only pushes lose offline devices at once (-3)', async () => {
      const other = await h.createApp('stats-broadcast');
      const on = await makeDevice(h.url, other);
      await registerDevice(h.url, other, { platform: 'android', vendor: 'xiaomi', token: 'st-b-1' }); // no certificate in this app: -1
      await makeDevice(h.url, other); // no token: -2
      const c = await ackingDevice(h.url, other, on);
      try {
        const p0 = await call('push', broadcastBody({ ExpireTime: 2 }), other);
        const p1 = await call('push', broadcastBody({}, { PushFlag: 1 }), other);
        await c.waitFor((f) => f.t === 'msg' && f.id === p0.TaskId);
        await c.waitFor((f) => f.t === 'msg' && f.id === p1.TaskId);
        await eventually(async () => (await call('get_push_task', { TaskId: p0.TaskId }, other)).Task.Status === 'expired', 6000);
        await eventually(async () => (await call('get_push_task', { TaskId: p1.TaskId }, other)).Task.Status === 'done', 6000);
        await h.herald.flush();
        const [s0, s1] = (await call('all_member_push_statistics', window([p0.TaskId, p1.TaskId]), other)).Results;
        const [l0, l1] = (await call('all_member_push_loss', window([p0.TaskId, p1.TaskId]), other)).Results;
        // PushFlag 0: three audience devices on the gateway, two offline ones tried through the vendors
        assert.deepEqual([s0.TotalCount, s0.SentCount, s0.DeliveredCount], [5, 1, 1]);
        assert.deepEqual(l0.ReadyToSendLoss.map((l: Loss) => [l.ErrCode, l.ErrCount]), [[-8, 2], [-1, 1], [-2, 1]].sort((a, b) => b[1]! - a[1]! || a[0]! - b[0]!));
        assertAddsUp(s0.PlatformStatistics, l0);
        // PushFlag 1: the gateway only
        assert.deepEqual([s1.TotalCount, s1.SentCount, s1.DeliveredCount], [3, 1, 1]);
        assert.deepEqual(l1.ReadyToSendLoss.map((l: Loss) => [l.ErrCode, l.ErrCount]), [[-3, 2]]);
        assertAddsUp(s1.PlatformStatistics, l1);

        // overall (no TaskID): both tasks; another app sees none of it
        const overall = (await call('all_member_push_statistics', window(), other)).Results;
        assert.deepEqual(overall.map((x: { TaskID: string; TotalCount: number }) => [x.TaskID, x.TotalCount]), [['', 8]]);
        const walled = (await call('all_member_push_statistics', window([p0.TaskId]))).ErrorCode;
        assert.equal(walled, 90049, "app A cannot read app B's task");
      } finally {
        c.close();
      }
    });

    test('get_push_funnel: daily series for yesterday, 7 and 30 days and a custom range, filtered by channel and platform', async () => {
      const days = (await call('get_push_funnel', { Range: '7d' })).Daily;
      assert.equal(days.length, 7);
      const today = days[6];
      assert.ok(today.Sendable >= 8 && today.Sent >= 4, JSON.stringify(today));
      assert.equal(today.SendRate, Math.round((today.Sent / today.Sendable) * 10_000) / 10_000);
      assert.deepEqual(days.slice(0, 6).map((d: { Sendable: number }) => d.Sendable), [0, 0, 0, 0, 0, 0]);
      assert.equal((await call('get_push_funnel', { Range: '30d' })).Daily.length, 30);
      const y = await call('get_push_funnel', { Range: 'yesterday' });
      assert.deepEqual([y.Daily.length, y.Total.Sendable], [1, 0]);
      const vendorOnly = await call('get_push_funnel', { Range: 'custom', StartTime: now() - 86400, EndTime: now(), EventType: 1, PushPlatform: 2 });
      assert.ok(vendorOnly.Total.Sent >= 2 && vendorOnly.Total.Sent === vendorOnly.Total.Sendable, JSON.stringify(vendorOnly.Total));
      const bad = await call('get_push_funnel', { Range: 'custom' });
      assert.equal(bad.ErrorCode, 90001);
      assert.match(bad.ErrorInfo, /StartTime/);
      const tooLong = await call('all_member_push_statistics', { StartTime: 0, EndTime: 31 * 86400 });
      assert.equal(tooLong.ErrorCode, 90001);
    });

    test('Push.AllMemberPush callbacks: what happened to each device, signed, from the counting transaction', async () => {
      const cbApp = await h.createApp('stats-callbacks');
      const got: { query: URLSearchParams; body: { Events: Record<string, any>[] } }[] = [];
      const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          got.push({ query: new URL(req.url!, 'http://x').searchParams, body: JSON.parse(Buffer.concat(chunks).toString()) });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const set = await call('set_callback', { Url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, Token: 'stats-token-123' }, cbApp);
        assert.equal(set.ActionStatus, 'OK', JSON.stringify(set));
        const cert = await call('set_certificate', { Vendor: 'xiaomi', Name: 'mi', Config: { ...emu.app('com.example.cb'), baseUrl: emu.base } }, cbApp);
        assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
        const on = await makeDevice(h.url, cbApp, { user: 'cb-ann' });
        const mi = await registerDevice(h.url, cbApp, { platform: 'android', vendor: 'xiaomi', token: 'st-cb-mi' });
        await deviceCall(h.url, cbApp, 'POST', '/device/v1/bind', { userId: 'cb-mi' }, mi);
        const bare = await makeDevice(h.url, cbApp, { user: 'cb-bare' });
        const c = await ackingDevice(h.url, cbApp, on);
        const r = await call('batch', pushBody([on.registrationId, mi.registrationId, bare.registrationId], { Title: 'cb' }, { DataId: 'data-7' }), cbApp);
        await c.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
        c.send({ t: 'click', id: r.TaskId });
        await eventually(async () => emu.received.some((x) => x.fields['extra.callback.param'] === r.TaskId));
        await emu.deliverReceipts();
        await h.herald.flush();
        const events = () => got.flatMap((g) => g.body.Events).filter((e) => e.TaskId === r.TaskId);
        const key = (e: Record<string, any>) => `${e.To_Account} ${e.EventType} ${e.PushPlatform} ${e.PushStage} ${e.ErrCode}`;
        const want = ['cb-ann 2 0 1 0', 'cb-ann 2 0 2 0', 'cb-ann 2 0 3 0', 'cb-mi 1 2 1 0', 'cb-mi 1 2 2 0', 'cb-bare 1 0 1 -2'];
        await eventually(async () => want.every((w) => events().some((e) => key(e) === w)), 8000).catch((err) => {
          throw new Error(`${err.message}: got ${JSON.stringify(events().map(key))} of ${got.length} requests`);
        });
        const first = events().find((e) => key(e) === 'cb-ann 2 0 1 0')!;
        assert.equal(first.CallbackCommand, 'Push.AllMemberPush');
        assert.equal(first.DataId, 'data-7');
        assert.equal(first.RegistrationID, on.registrationId);
        assert.ok(Math.abs(first.TaskTime - now()) < 60, String(first.TaskTime));
        assert.ok(Math.abs(first.EventTime - now()) < 60, `EventTime in seconds: ${first.EventTime}`);
        assert.match(events().find((e) => e.ErrCode === -2)!.ErrInfo, /token/);
        for (const g of got) {
          assert.equal(g.query.get('SdkAppid'), String(cbApp.sdkAppId));
          assert.equal(g.query.get('CallbackCommand'), 'Push.AllMemberPush');
          assert.equal(g.query.get('Sign'), crypto.createHash('sha256').update(`stats-token-123${g.query.get('RequestTime')}`).digest('hex'));
        }
        assert.equal(events().filter((e) => key(e) === 'cb-ann 2 0 1 0').length, 1, 'each event told once');
        c.close();
      } finally {
        server.close();
      }
    });
  });
}
