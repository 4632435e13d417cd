import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MeizuEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { meizuAdapter } from '../src/channels/vendors/meizu.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';
import { permissionOf, plainMessage, tokenOf } from './helpers/receipt-capture.js';

for (const db of await testDatabases()) {
  describe(`offline push through Meizu Push (${db.name})`, () => {
    let h: TestHerald;
    let emu: MeizuEmulator;
    let app: App;
    let certId: number;
    const call = (command: string, body: unknown, a = app) => admin(h.url, a, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);
    const phone = (token: string, locale?: string, a = app, cert = certId) => registerDevice(h.url, a, { platform: 'android', vendor: 'meizu', token, certificateId: cert, ...(locale ? { locale } : {}) });
    const sentTo = (pushId: string, taskId: string) => emu.received.find((x) => x.pushIds.includes(pushId) && (x.message.clickTypeInfo as { parameters: { id: string } }).parameters.id === taskId);

    before(async () => {
      emu = new MeizuEmulator();
      await emu.start();
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('meizu');
      const cert = await call('set_certificate', { Vendor: 'meizu', Name: 'mz', Config: { ...emu.app(), baseUrl: emu.base } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      certId = cert.CertId;
    });
    after(() => stopWithEmulator(h, emu));

    test("signed pushByPushId per language with Meizu's limits, validTime, notifyKey and notice type; dead pushIds cleared; receipts count as reached", async () => {
      const zh1 = await phone('mz-zh-1', 'zh-CN');
      const zh2 = await phone('mz-zh-2', 'zh-CN');
      const en = await phone('mz-en', 'en-US');
      const dead = await phone('mz-dead', 'zh-CN');
      emu.invalidate('mz-dead', 110003);
      const info = { Title: 'T'.repeat(40), Desc: 'd'.repeat(120), Ext: 'x', MultiLanguageContent: [{ Language: 'zh', Title: '标题', Desc: '内容' }], AndroidInfo: { MeiZuNoticeMsgType: 1 } };
      const r = await call('batch', pushBody([zh1, zh2, en, dead].map((d) => d.registrationId), info, { ExpireTime: 3 * 3600 + 100 }));
      await eventually(async () => emu.received.length === 2 && (await losses(r.TaskId)).length === 1);
      const zh = sentTo('mz-zh-1', r.TaskId)!;
      const other = sentTo('mz-en', r.TaskId)!;
      assert.deepEqual(zh.pushIds.sort(), ['mz-zh-1', 'mz-zh-2']);
      const m = zh.message as Record<string, any>;
      assert.deepEqual([m.noticeBarInfo.title, m.noticeBarInfo.content, m.noticeBarInfo.noticeMsgType, m.clickTypeInfo.clickType], ['标题', '内容', 1, 0]);
      assert.deepEqual(m.clickTypeInfo.parameters, { id: r.TaskId, ext: 'x' });
      assert.deepEqual(m.pushTimeInfo, { offLine: 1, validTime: 4 });
      assert.match(m.advanceInfo.notifyKey, /^[0-9a-zA-Z_-]{8}$/);
      assert.equal((other.message as Record<string, any>).advanceInfo.notifyKey, m.advanceInfo.notifyKey, 'one notifyKey per push');
      assert.deepEqual([(other.message as Record<string, any>).noticeBarInfo.title, (other.message as Record<string, any>).noticeBarInfo.content], [`${'T'.repeat(29)}...`, `${'d'.repeat(97)}...`]);
      assert.equal(m.extra['callback.param'], r.TaskId);
      const [l] = await losses(r.TaskId);
      assert.deepEqual([l!.registration_id, l!.code, l!.stage], [dead.registrationId, 110003, 'post_send']);
      assert.equal(await tokenOf(h, dead.registrationId), null);
      assert.ok((await emu.deliverReceipts()) >= 3);
      // the refused one was sent too: its refusal is a post-send loss
      await eventually(async () => JSON.stringify((await call('get_push_task', { TaskId: r.TaskId })).Task.Vendors) === JSON.stringify([{ Vendor: 'meizu', Sent: 4, Reached: 3 }]));
    });

    test('an all-users push arrives; busy (1003) and pushIds Meizu failed (513) are sent again', async () => {
      const d = await phone('mz-all');
      emu.failNext(1003);
      const r1 = await call('push', broadcastBody());
      await eventually(async () => sentTo('mz-all', r1.TaskId));
      emu.failPushIdsNext(513);
      const r2 = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => sentTo('mz-all', r2.TaskId));
      assert.equal((await losses(r2.TaskId)).length, 0);
    });

    test('the daily limit (110019) pauses the certificate: the next push makes no request and is lost with 110019', async () => {
      const other = await h.createApp('meizu-quota');
      const cert = await call('set_certificate', { Vendor: 'meizu', Name: 'q', Config: { ...emu.app(), baseUrl: emu.base } }, other);
      const d = await phone('mz-quota', undefined, other, cert.CertId);
      emu.failNext(110019);
      const r1 = await call('batch', pushBody([d.registrationId]), other);
      await eventually(async () => (await losses(r1.TaskId)).length === 1);
      const before = emu.received.length;
      const r2 = await call('batch', pushBody([d.registrationId]), other);
      await eventually(async () => (await losses(r2.TaskId)).length === 1);
      assert.deepEqual([(await losses(r1.TaskId))[0]!.code, (await losses(r2.TaskId))[0]!.code], [110019, 110019]);
      assert.equal(emu.received.length, before, 'no request while paused');
      assert.equal(await tokenOf(h, d.registrationId), 'mz-quota');
    });

    test('the adapter: a wrong appSecret fails the sign check (1006), with no retry, and stops the certificate; an illegal pushId (110003) is cleared only on a certificate known to work', async () => {
      const { appId, appSecret } = emu.app();
      const target = (token: string) => [{ registrationId: 'r', token, locale: null }];
      const before = emu.arrivals;
      const [x] = await meizuAdapter.send({ appId, appSecret: crypto.randomBytes(16).toString('hex'), baseUrl: emu.base }, plainMessage('task-s'), target('mz-x'), {});
      assert.deepEqual([x!.outcome, x!.outcome === 'sent' ? 0 : x!.code], ['certificate', 1006]);
      assert.match(x!.outcome === 'sent' ? '' : x!.info, /check the certificate's appId and appSecret/);
      assert.equal(emu.arrivals, before + 1, 'no retry');
      emu.invalidate('mz-illegal', 110003);
      const config = { appId, appSecret, baseUrl: emu.base };
      const [unproven] = await meizuAdapter.send(config, plainMessage('task-i1'), target('mz-illegal'), {});
      const [proven] = await meizuAdapter.send(config, plainMessage('task-i2'), target('mz-illegal'), { certificateProven: true });
      assert.deepEqual([unproven!.outcome, proven!.outcome], ['failed', 'dead']);
    });

    test('110002 (not subscribed) and 110010 (switched off) in `value` keep the token and record notifications as denied; a top-level 110010 (rate too fast) is retried', async () => {
      const unsub = await phone('mz-unsub');
      const off = await phone('mz-off');
      const ok = await phone('mz-ok');
      emu.invalidate('mz-unsub', 110002);
      emu.invalidate('mz-off', 110010);
      emu.failNext(110010);
      const r = await call('batch', pushBody([unsub.registrationId, off.registrationId, ok.registrationId]));
      await eventually(async () => sentTo('mz-ok', r.TaskId));
      const lost = await eventually(async () => {
        const rows = await losses(r.TaskId);
        return rows.length === 2 ? rows : undefined;
      });
      assert.deepEqual(lost.map((l) => [l.registration_id, l.code, l.stage]).sort(), [[unsub.registrationId, 110002, 'post_send'], [off.registrationId, 110010, 'post_send']].sort());
      for (const l of lost) assert.match(l.reason, /notifications switched off on the device; token kept\): pushId refused/);
      assert.deepEqual([await tokenOf(h, unsub.registrationId), await tokenOf(h, off.registrationId)], ['mz-unsub', 'mz-off']);
      assert.deepEqual([await permissionOf(h, unsub.registrationId), await permissionOf(h, off.registrationId), await permissionOf(h, ok.registrationId)], ['denied', 'denied', null]);
    });

    test('check: a signed statistics query answered is a pass; a wrong appSecret (1006) or appId (110000) fails; nothing is sent', async () => {
      const good = { ...emu.app(), baseUrl: emu.base };
      const sent = emu.received.length;
      assert.deepEqual(await meizuAdapter.check!(good), { ok: true, info: `Meizu took the appId ${good.appId} and the sign of its appSecret` });
      const wrong = await meizuAdapter.check!({ ...good, appSecret: 'nope' });
      const unknown = await meizuAdapter.check!({ ...good, appId: '1' });
      assert.deepEqual([wrong.ok, wrong.ok ? 0 : wrong.code, unknown.ok, unknown.ok ? 0 : unknown.code], [false, 1006, false, 110000]);
      assert.match(wrong.ok ? '' : wrong.info, /check the certificate's appId and appSecret/);
      assert.equal(emu.received.length, sent);
    });
  });
}
