import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { XiaomiEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { xiaomiAdapter } from '../src/channels/vendors/xiaomi.js';
import { testDatabases } from './helpers/dialects.js';
import { plainMessage } from './helpers/receipt-capture.js';
import { admin, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';

for (const db of await testDatabases()) {
  describe(`offline push through Xiaomi MiPush (${db.name})`, () => {
    let h: TestHerald;
    let emu: XiaomiEmulator;
    let app: App;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);

    before(async () => {
      emu = new XiaomiEmulator();
      await emu.start();
      h = await startTestHerald(db);
      app = await h.createApp('mi');
      const cert = await call('set_certificate', { Vendor: 'xiaomi', Name: 'mi', Config: { ...emu.app('com.example.shop'), baseUrl: emu.base } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
    });
    after(() => stopWithEmulator(h, emu));

    test("regIds go in lists per language, with the package, Xiaomi's length limits, TTL, notify_id and channel", async () => {
      const a = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-a', locale: 'zh-CN' });
      const b = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-b', locale: 'zh-TW' });
      const c = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-c', locale: 'de-DE' });
      const r = await call('batch', pushBody([a.registrationId, b.registrationId, c.registrationId], { Title: 'X'.repeat(60), Desc: 'd'.repeat(200), Ext: 'e', MultiLanguageContent: [{ Language: 'zh', Title: '小米', Desc: '推送' }], AndroidInfo: { XiaoMiChannelID: 'ch1', Sound: 'ding' } }, { ExpireTime: 60 }));
      await eventually(async () => emu.received.length === 2);
      const zh = emu.received.find((x) => x.regIds.includes('mi-a'))!;
      const de = emu.received.find((x) => x.regIds.includes('mi-c'))!;
      assert.deepEqual(zh.regIds.sort(), ['mi-a', 'mi-b']);
      assert.deepEqual([zh.fields.title, zh.fields.description, zh.fields['extra.channel_id'], zh.packageName], ['小米', '推送', 'ch1', 'com.example.shop']);
      assert.deepEqual(JSON.parse(zh.fields.payload!), { id: r.TaskId, ext: 'e' });
      assert.equal(zh.fields['extra.sound_uri'], 'android.resource://com.example.shop/raw/ding');
      assert.equal(de.fields.title, `${'X'.repeat(46)}...`);
      assert.equal(de.fields.description!.length, 127);
      assert.ok(Number(de.fields.time_to_live) > 55_000 && Number(de.fields.time_to_live) <= 60_000);
      assert.equal(de.fields.notify_id, zh.fields.notify_id, 'one notify_id per push');
      assert.equal((await losses(r.TaskId)).length, 0);
    });

    test('busy answers are retried; a refusal (10016 missing parameter) is a loss with its code and keeps the token', async () => {
      const d = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-q' });
      emu.failNext(10002);
      await call('batch', pushBody([d.registrationId]));
      await eventually(async () => emu.received.some((x) => x.regIds.includes('mi-q')));
      emu.failNext(10016);
      const r = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => (await losses(r.TaskId)).length === 1);
      const [l] = await losses(r.TaskId);
      assert.equal(l!.code, 10016);
      assert.equal((await h.herald.store.db.selectFrom('devices').select('token').where('registration_id', '=', d.registrationId).executeTakeFirstOrThrow()).token, 'mi-q');
    });

    test("receipts posted to Herald's signed URL count arrivals per vendor and clear invalid regIds", async () => {
      const ok = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-r1' });
      const gone = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-r2' });
      emu.invalidate('mi-r2');
      const r = await call('batch', pushBody([ok.registrationId, gone.registrationId]));
      const got = await eventually(async () => emu.received.find((x) => x.fields['extra.callback.param'] === r.TaskId));
      assert.match(got.fields['extra.callback']!, new RegExp(`^${h.url}/v1/receipts/xiaomi/${app.sdkAppId}/\\d+/[\\w-]+$`));
      const [cert] = (await call('get_certificates', {})).Certificates;
      assert.equal(got.fields['extra.callback'], cert.ReceiptUrl, 'the URL get_certificates shows, for vendors configured in their console');
      const statuses = await emu.deliverReceipts();
      assert.ok(statuses.length >= 1 && statuses.every((x) => x === 200), String(statuses));
      await h.herald.flush();
      const task = (await call('get_push_task', { TaskId: r.TaskId })).Task;
      assert.deepEqual(task.Vendors, [{ Vendor: 'xiaomi', Sent: 2, Reached: 1 }]);
      assert.ok(task.Losses.some((l: { ErrCode: number; Count: number }) => l.ErrCode === 16 && l.Count === 1), JSON.stringify(task.Losses));
      const token = async (id: string) => (await h.herald.store.db.selectFrom('devices').select('token').where('registration_id', '=', id).executeTakeFirstOrThrow()).token;
      assert.deepEqual([await token(ok.registrationId), await token(gone.registrationId)], ['mi-r1', null]);

      // a forged URL (wrong signature) is refused and counts nothing
      const forged = got.fields['extra.callback']!.replace(/[\w-]+$/, 'AAAAAAAAAAAAAAAAAAAAAA');
      const res = await fetch(forged, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ data: JSON.stringify({ m: { param: r.TaskId, type: 1, targets: 'mi-r1' } }) }).toString() });
      assert.equal(res.status, 404);
      // a body the vendor's reader cannot read is refused, not half-counted
      const garbage = await fetch(got.fields['extra.callback']!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'data=%7Bnot-json' });
      assert.equal(garbage.status, 400);
      assert.deepEqual((await call('get_push_task', { TaskId: r.TaskId })).Task.Vendors, [{ Vendor: 'xiaomi', Sent: 2, Reached: 1 }]);
    });

    test('a recall sends the replacement under the same notify_id (the v3 revoke parameters are not public)', async () => {
      const d = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-recall' });
      const r = await call('batch', pushBody([d.registrationId], { Title: 'Sale', Desc: 'today' }));
      const first = await eventually(async () => emu.received.find((x) => x.regIds.includes('mi-recall')));
      const ok = await call('revoke', { TaskId: r.TaskId, OfflinePushInfo: { Title: 'Sale over', Desc: 'sorry' } });
      assert.equal(ok.ActionStatus, 'OK', JSON.stringify(ok));
      const second = await eventually(async () => emu.received.filter((x) => x.regIds.includes('mi-recall'))[1]);
      assert.deepEqual([second.fields.title, second.fields.description, second.fields.notify_id], ['Sale over', 'sorry', first.fields.notify_id]);
      assert.equal(second.fields['extra.callback'], undefined, 'no receipts asked for the overwrite');
    });

    test("a certificate's pace spaces its requests; a spent daily quota (200001) pauses it: later pushes are losses without a request", async () => {
      const other = await h.createApp('mi-quota');
      const cert = await admin(h.url, other, 'set_certificate', { Vendor: 'xiaomi', Name: 'mi', Config: { ...emu.app('com.example.quota'), baseUrl: emu.base, limits: { perSecond: 4 } } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      const devs = await Promise.all(['q1', 'q2', 'q3', 'q4'].map((t) => registerDevice(h.url, other, { platform: 'android', vendor: 'xiaomi', token: `mi-${t}` })));
      const ofApp = () => emu.received.filter((x) => x.packageName === 'com.example.quota');
      const t0 = Date.now();
      await admin(h.url, other, 'batch', pushBody(devs.map((d) => d.registrationId)));
      await eventually(async () => ofApp().length === 1);
      await admin(h.url, other, 'batch', pushBody(devs.map((d) => d.registrationId)));
      await eventually(async () => ofApp().length === 2, 5000);
      assert.ok(Date.now() - t0 >= 900, 'four devices at four a second: the second request waits about a second');

      emu.failNext(200001);
      const spent = await admin(h.url, other, 'batch', pushBody([devs[0]!.registrationId]));
      await eventually(async () => (await losses(spent.TaskId)).length === 1);
      const requests = emu.received.length;
      const paused = await admin(h.url, other, 'batch', pushBody([devs[1]!.registrationId]));
      await eventually(async () => (await losses(paused.TaskId)).length === 1);
      const [l] = await losses(paused.TaskId);
      assert.deepEqual([l!.code, l!.stage], [200001, 'ready_to_send']);
      assert.match(l!.reason, /paused until/);
      assert.equal(emu.received.length, requests, 'no request while paused');
    });

    test('the adapter: a refused AppSecret (21301) or package name (22022) stops the certificate instead of failing device by device', async () => {
      const mi = emu.app('com.example.cert');
      const target = [{ registrationId: 'r', token: 'mi-cert', locale: null }];
      const [secret] = await xiaomiAdapter.send({ ...mi, appSecret: 'not-it', baseUrl: emu.base }, plainMessage('task-c1'), target, {});
      const [pkg] = await xiaomiAdapter.send({ ...mi, packageName: 'com.example.other', baseUrl: emu.base }, plainMessage('task-c2'), target, {});
      assert.deepEqual([secret!.outcome, secret!.outcome === 'sent' ? 0 : secret!.code, pkg!.outcome, pkg!.outcome === 'sent' ? 0 : pkg!.code], ['certificate', 21301, 'certificate', 22022]);
      assert.match(pkg!.outcome === 'sent' ? '' : pkg!.info, /check the certificate's appSecret and packageName/);
    });

    test("check: today's message counters answered is a pass; a wrong AppSecret (21301) or package name (22022) fails; nothing is sent", async () => {
      const good = { ...emu.app('com.example.check'), baseUrl: emu.base };
      const sent = emu.received.length;
      assert.deepEqual(await xiaomiAdapter.check!(good), { ok: true, info: 'MiPush took the AppSecret and package com.example.check' });
      const secret = await xiaomiAdapter.check!({ ...good, appSecret: 'not-it' });
      const pkg = await xiaomiAdapter.check!({ ...good, packageName: 'com.example.other' });
      assert.deepEqual([secret.ok, secret.ok ? 0 : secret.code, pkg.ok, pkg.ok ? 0 : pkg.code], [false, 21301, false, 22022]);
      assert.match(pkg.ok ? '' : pkg.info, /package name mismatch: check the certificate's appSecret and packageName/);
      assert.equal(emu.received.length, sent);
    });
  });
}
