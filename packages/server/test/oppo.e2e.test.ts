import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OppoEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { oppoAdapter } from '../src/channels/vendors/oppo.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';
import { plainMessage, receiptCapture, tokenOf } from './helpers/receipt-capture.js';

for (const db of await testDatabases()) {
  describe(`offline push through OPPO Push (${db.name})`, () => {
    let h: TestHerald;
    let emu: OppoEmulator;
    let app: App;
    let certId: number;
    const call = (command: string, body: unknown, a = app) => admin(h.url, a, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);
    const phone = (token: string, locale?: string, a = app, cert = certId) => registerDevice(h.url, a, { platform: 'android', vendor: 'oppo', token, certificateId: cert, ...(locale ? { locale } : {}) });
    const sentTo = (regId: string, taskId: string) => emu.received.find((x) => x.regIds.includes(regId) && JSON.parse(String(x.notification.action_parameters)).id === taskId);

    before(async () => {
      emu = new OppoEmulator();
      await emu.start();
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('oppo');
      const cert = await call('set_certificate', { Vendor: 'oppo', Name: 'oppo', Config: { ...emu.app(), baseUrl: emu.base } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      certId = cert.CertId;
    });
    after(() => stopWithEmulator(h, emu));

    test("one unicast_batch per language with OPPO's limits, TTL, notify_id, channel and category; an invalid registration_id is cleared; receipts count as reached", async () => {
      const zh1 = await phone('op-zh-1', 'zh-CN');
      const zh2 = await phone('op-zh-2', 'zh-TW');
      const de = await phone('op-de', 'de-DE');
      const dead = await phone('op-dead', 'zh-CN');
      emu.invalidate('op-dead');
      const info = { Title: 'T'.repeat(60), Desc: 'd'.repeat(80), Ext: '{"k":1}', MultiLanguageContent: [{ Language: 'zh', Title: '标题', Desc: '内容' }], AndroidInfo: { OPPOChannelID: 'im', OPPOCategory: 'IM', OPPONotifyLevel: 16 } };
      const r = await call('batch', pushBody([zh1.registrationId, zh2.registrationId, de.registrationId, dead.registrationId], info, { ExpireTime: 120 }));
      await eventually(async () => emu.received.length === 2 && (await losses(r.TaskId)).length === 1);
      assert.equal(emu.authRequests.length, 1, 'one auth_token for both requests');
      const zh = sentTo('op-zh-1', r.TaskId)!;
      const other = sentTo('op-de', r.TaskId)!;
      assert.deepEqual(zh.regIds.sort(), ['op-zh-1', 'op-zh-2'], 'the invalid registration_id was refused, the others sent in one request');
      const n = zh.notification;
      assert.deepEqual([n.title, n.content, n.style, n.click_action_type, n.channel_id, n.category, n.notify_level, n.off_line], ['标题', '内容', 1, 0, 'im', 'IM', 16, true]);
      assert.deepEqual(JSON.parse(String(n.action_parameters)), { id: r.TaskId, ext: '{"k":1}' });
      assert.equal(n.call_back_parameter, r.TaskId);
      assert.match(String(n.call_back_url), /^http:\/\/127\.0\.0\.1:\d+\/v1\/receipts\/oppo\//);
      assert.deepEqual([other.notification.title, other.notification.content], [`${'T'.repeat(47)}...`, `${'d'.repeat(47)}...`]);
      assert.ok(Number(n.off_line_ttl) > 110 && Number(n.off_line_ttl) <= 120, String(n.off_line_ttl));
      assert.equal(other.notification.notify_id, n.notify_id, 'one notify_id per push');
      assert.ok(Number.isInteger(n.notify_id) && Number(n.notify_id) >= 0);
      const [l] = await losses(r.TaskId);
      assert.deepEqual([l!.registration_id, l!.code, l!.stage], [dead.registrationId, 10000, 'post_send']);
      assert.equal(await tokenOf(h, dead.registrationId), null);
      assert.equal(await tokenOf(h, zh1.registrationId), 'op-zh-1');
      assert.ok((await emu.deliverReceipts()) >= 3);
      // the refused one was sent too: its refusal is a post-send loss
      await eventually(async () => JSON.stringify((await call('get_push_task', { TaskId: r.TaskId })).Task.Vendors) === JSON.stringify([{ Vendor: 'oppo', Sent: 4, Reached: 3 }]));
    });

    test('an all-users push reaches offline OPPO devices; PushStyle 1 sends long text up to 128 characters', async () => {
      const d = await phone('op-all');
      const r = await call('push', broadcastBody({}, { Desc: 'x'.repeat(140), AndroidInfo: { PushStyle: 1 } }));
      const got = await eventually(async () => sentTo('op-all', r.TaskId));
      assert.deepEqual([got.notification.style, got.notification.content], [2, `${'x'.repeat(125)}...`]);
      assert.ok(d.registrationId);
    });

    test('flow control (-2) is retried; an expired auth_token (11) is signed again once', async () => {
      const d = await phone('op-retry');
      emu.failNext(-2);
      const r1 = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => sentTo('op-retry', r1.TaskId));
      const auths = emu.authRequests.length;
      emu.expireTokens();
      const r2 = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => sentTo('op-retry', r2.TaskId));
      assert.equal(emu.authRequests.length, auths + 1);
      assert.equal((await losses(r1.TaskId)).length + (await losses(r2.TaskId)).length, 0);
    });

    test('the daily quota (33) pauses the certificate: the next push makes no request and is lost with 33', async () => {
      const other = await h.createApp('oppo-quota');
      const cert = await call('set_certificate', { Vendor: 'oppo', Name: 'q', Config: { ...emu.app(), baseUrl: emu.base } }, other);
      const d = await phone('op-quota', undefined, other, cert.CertId);
      emu.failNext(33);
      const r1 = await call('batch', pushBody([d.registrationId]), other);
      await eventually(async () => (await losses(r1.TaskId)).length === 1);
      assert.equal((await losses(r1.TaskId))[0]!.code, 33);
      const before = emu.received.length;
      const r2 = await call('batch', pushBody([d.registrationId]), other);
      await eventually(async () => (await losses(r2.TaskId)).length === 1);
      const [l] = await losses(r2.TaskId);
      assert.equal(l!.code, 33);
      assert.equal(emu.received.length, before, 'no request while paused');
      assert.equal(await tokenOf(h, d.registrationId), 'op-quota', 'a quota refusal keeps the token');
    });

    test('the adapter: quota answers carry a pause until the next China midnight; receipts name the TaskId and registration ids', async () => {
      const config = { ...emu.app(), baseUrl: emu.base };
      emu.failNext(33);
      const [q] = await oppoAdapter.send(config, plainMessage('task-q'), [{ registrationId: 'r', token: 'op-x', locale: null }], {});
      assert.ok(q!.outcome === 'failed' && q!.pauseMs! > 0 && q!.pauseMs! <= 86_400_000);
      assert.ok((Date.now() + q!.pauseMs! + 8 * 3_600_000) % 86_400_000 < 1000, 'the pause ends at 00:00 UTC+8');
      const cap = await receiptCapture();
      try {
        const targets = [{ registrationId: 'r1', token: 'op-r1', locale: null }, { registrationId: 'r2', token: 'op-r2', locale: null }];
        const sent = await oppoAdapter.send(config, plainMessage('task-r'), targets, { receiptUrl: cap.url });
        assert.deepEqual(sent.map((s) => s.outcome), ['sent', 'sent']);
        assert.ok((await emu.deliverReceipts()) >= 2);
        const events = cap.posts.flatMap((p) => oppoAdapter.receipts!(p.body, p.contentType));
        assert.deepEqual(events.map((e) => [e.taskId, e.token, e.outcome]).sort(), [['task-r', 'op-r1', 'reached'], ['task-r', 'op-r2', 'reached']]);
      } finally {
        await cap.close();
      }
    });

    test('a recall sends the replacement under the same notify_id, with an app_message_id of its own and no receipt URL', async () => {
      const d = await phone('op-recall');
      const r = await call('batch', pushBody([d.registrationId], { Title: 'Sale', Desc: 'today' }));
      const first = await eventually(async () => sentTo('op-recall', r.TaskId));
      const ok = await call('revoke', { TaskId: r.TaskId, OfflinePushInfo: { Title: 'Sale over', Desc: 'sorry' } });
      assert.equal(ok.ActionStatus, 'OK', JSON.stringify(ok));
      const both = await eventually(async () => {
        const list = emu.received.filter((x) => x.regIds.includes('op-recall'));
        return list.length === 2 ? list : undefined;
      });
      const n = both[1]!.notification;
      assert.deepEqual([n.title, n.content, n.notify_id], ['Sale over', 'sorry', first.notification.notify_id]);
      assert.notEqual(n.app_message_id, first.notification.app_message_id);
      assert.equal(n.call_back_url, undefined);
    });

    test("the adapter: call_back_parameter stays within OPPO's 50 characters for a 54-character TaskId, and its receipt names the TaskId whole", async () => {
      const config = { ...emu.app(), baseUrl: emu.base };
      const taskId = `batch_${'f'.repeat(8)}_${'f'.repeat(8)}_${'f'.repeat(8)}_${'0'.repeat(12)}_${'f'.repeat(8)}`;
      assert.equal(taskId.length, 54);
      const cap = await receiptCapture();
      try {
        const [x] = await oppoAdapter.send(config, plainMessage(taskId), [{ registrationId: 'r', token: 'op-long', locale: null }], { receiptUrl: cap.url });
        assert.equal(x!.outcome, 'sent', JSON.stringify(x));
        const param = String(emu.received.at(-1)!.notification.call_back_parameter);
        assert.ok(param.length <= 50, param);
        assert.ok((await emu.deliverReceipts()) >= 1);
        const events = cap.posts.flatMap((p) => oppoAdapter.receipts!(p.body, p.contentType));
        assert.deepEqual(events.map((e) => [e.taskId, e.token, e.outcome]), [[taskId, 'op-long', 'reached']]);
      } finally {
        await cap.close();
      }
    });

    test("an app on OPPO's message classification gets a category on every message: the push's own, else the certificate's", async () => {
      const keys = emu.app({ categoryRequired: true });
      const other = await h.createApp('oppo-category');
      const cert = await call('set_certificate', { Vendor: 'oppo', Name: 'c', Config: { ...keys, category: 'ACCOUNT', baseUrl: emu.base } }, other);
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      const d = await phone('op-cat', undefined, other, cert.CertId);
      const r = await call('batch', pushBody([d.registrationId]), other);
      const got = await eventually(async () => sentTo('op-cat', r.TaskId));
      assert.equal(got.notification.category, 'ACCOUNT');
      const own = await call('batch', pushBody([d.registrationId], { AndroidInfo: { OPPOCategory: 'TODO' } }), other);
      assert.equal((await eventually(async () => sentTo('op-cat', own.TaskId))).notification.category, 'TODO');
      const bad = await call('set_certificate', { Vendor: 'oppo', Name: 'x', Config: { ...keys, category: 'CHAT', baseUrl: emu.base } }, other);
      assert.notEqual(bad.ActionStatus, 'OK', 'a category OPPO does not have is refused');
    });

    test('the adapter: 10000 (invalid registration_id) keeps the token until the certificate is known to work; a refused MasterSecret (16) stops the certificate', async () => {
      const config = { ...emu.app(), baseUrl: emu.base };
      emu.invalidate('op-inv');
      const target = [{ registrationId: 'r', token: 'op-inv', locale: null }];
      const [unproven] = await oppoAdapter.send(config, plainMessage('task-i1'), target, {});
      assert.deepEqual([unproven!.outcome, unproven!.outcome === 'sent' ? 0 : unproven!.code], ['failed', 10000]);
      const [proven] = await oppoAdapter.send(config, plainMessage('task-i2'), target, { certificateProven: true });
      assert.deepEqual([proven!.outcome, proven!.outcome === 'sent' ? 0 : proven!.code], ['dead', 10000]);
      const [refused] = await oppoAdapter.send({ ...config, masterSecret: 'wrong' }, plainMessage('task-i3'), target, {});
      assert.deepEqual([refused!.outcome, refused!.outcome === 'sent' ? 0 : refused!.code], ['certificate', 16]);
      assert.match(refused!.outcome === 'sent' ? '' : refused!.info, /Invalid Signature: check the certificate's appKey and masterSecret/);
    });

    test('check: an auth_token issued is a pass; an unknown AppKey (14) or a wrong MasterSecret (16) fails; nothing is sent', async () => {
      const good = { ...emu.app(), baseUrl: emu.base };
      const sent = emu.received.length;
      assert.deepEqual(await oppoAdapter.check!(good), { ok: true, info: `OPPO issued an auth_token for AppKey ${good.appKey}` });
      const unknown = await oppoAdapter.check!({ ...good, appKey: 'nope' });
      const wrong = await oppoAdapter.check!({ ...good, masterSecret: 'nope' });
      assert.deepEqual([unknown.ok, unknown.ok ? 0 : unknown.code, wrong.ok, wrong.ok ? 0 : wrong.code], [false, 14, false, 16]);
      assert.match(wrong.ok ? '' : wrong.info, /check the certificate's appKey and masterSecret/);
      assert.equal(emu.received.length, sent);
    });
  });
}
