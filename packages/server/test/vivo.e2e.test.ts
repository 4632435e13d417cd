import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VivoEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { vivoAdapter } from '../src/channels/vendors/vivo.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';
import { permissionOf, plainMessage, tokenOf } from './helpers/receipt-capture.js';

for (const db of await testDatabases()) {
  describe(`offline push through vivo Push (${db.name})`, () => {
    let h: TestHerald;
    let emu: VivoEmulator;
    let app: App;
    let certId: number;
    const call = (command: string, body: unknown, a = app) => admin(h.url, a, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);
    const phone = (token: string, locale?: string, a = app, cert = certId) => registerDevice(h.url, a, { platform: 'android', vendor: 'vivo', token, certificateId: cert, ...(locale ? { locale } : {}) });
    const sentTo = (regId: string, taskId: string) => emu.received.find((x) => x.regIds.includes(regId) && (x.message.clientCustomMap as Record<string, string>).id === taskId);

    before(async () => {
      emu = new VivoEmulator();
      await emu.start();
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('vivo');
      const cert = await call('set_certificate', { Vendor: 'vivo', Name: 'vivo', Config: { ...emu.app(), baseUrl: emu.base } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      certId = cert.CertId;
    });
    after(() => stopWithEmulator(h, emu));

    test("a saved list payload per language pushed to its regIds, with vivo's limits, TTL, notifyId, classification and category; a regId that does not exist (status 1) beside taken ones is cleared", async () => {
      const zh1 = await phone('vv-zh-1', 'zh-CN');
      const zh2 = await phone('vv-zh-2', 'zh-CN');
      const de1 = await phone('vv-de-1', 'de-DE');
      const de2 = await phone('vv-de-2', 'de-DE');
      const dead = await phone('vv-dead', 'zh-CN');
      emu.invalidate('vv-dead', 1);
      const info = { Title: 'T'.repeat(50), Desc: 'd'.repeat(120), Ext: 'e', MultiLanguageContent: [{ Language: 'zh', Title: '标题', Desc: '内容' }], AndroidInfo: { VIVOClassification: 0, VIVOCategory: 'marketing', VIVONotifyType: 2 } };
      const r = await call('batch', pushBody([zh1, zh2, de1, de2, dead].map((d) => d.registrationId), info, { ExpireTime: 600 }));
      await eventually(async () => emu.received.length === 2 && (await losses(r.TaskId)).length === 1);
      assert.equal(emu.authRequests.length, 1, 'one authToken for every call');
      const zh = sentTo('vv-zh-1', r.TaskId)!;
      const de = sentTo('vv-de-1', r.TaskId)!;
      assert.deepEqual(zh.regIds.sort(), ['vv-zh-1', 'vv-zh-2']);
      assert.deepEqual(de.regIds.sort(), ['vv-de-1', 'vv-de-2']);
      const m = zh.message;
      assert.deepEqual([m.title, m.content, m.notifyType, m.classification, m.category, m.skipType, m.pushMode], ['标题', '内容', 2, 0, 'MARKETING', 1, 0]);
      assert.deepEqual(m.clientCustomMap, { id: r.TaskId, ext: 'e' });
      assert.equal(m.extra, undefined, 'receipts are for single sends only');
      assert.deepEqual([de.message.title, de.message.content], [`${'T'.repeat(37)}...`, `${'d'.repeat(97)}...`]);
      assert.ok(Number(m.timeToLive) > 590 && Number(m.timeToLive) <= 600);
      assert.equal(de.message.notifyId, m.notifyId, 'one notifyId per push');
      const [l] = await losses(r.TaskId);
      assert.deepEqual([l!.registration_id, l!.stage], [dead.registrationId, 'post_send']);
      assert.equal(await tokenOf(h, dead.registrationId), null);
    });

    test('a single device goes by /message/send with extra.callback; its receipt counts as reached; an all-users push arrives too', async () => {
      const d = await phone('vv-one');
      const r = await call('batch', pushBody([d.registrationId]));
      const got = await eventually(async () => sentTo('vv-one', r.TaskId));
      const extra = got.message.extra as Record<string, string>;
      assert.equal(extra['callback.param'], r.TaskId);
      assert.match(extra.callback!, /\/v1\/receipts\/vivo\//);
      assert.ok((await emu.deliverReceipts()) >= 1);
      await eventually(async () => JSON.stringify((await call('get_push_task', { TaskId: r.TaskId })).Task.Vendors) === JSON.stringify([{ Vendor: 'vivo', Sent: 1, Reached: 1 }]));
      const all = await call('push', broadcastBody());
      await eventually(async () => sentTo('vv-one', all.TaskId));
    });

    test('an invalid single regId (status 1) is cleared; a server error is retried; a refused authToken is renewed once', async () => {
      const gone = await phone('vv-gone');
      emu.invalidate('vv-gone', 1);
      const r1 = await call('batch', pushBody([gone.registrationId]));
      // the token is cleared before the loss is written: wait for both
      await eventually(async () => (await tokenOf(h, gone.registrationId)) === null && (await losses(r1.TaskId)).length === 1);
      assert.equal((await losses(r1.TaskId))[0]!.code, 10302);
      const d = await phone('vv-retry');
      const auths = emu.authRequests.length;
      emu.expireTokens();
      const r2 = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => sentTo('vv-retry', r2.TaskId));
      assert.equal(emu.authRequests.length, auths + 1);
      assert.equal((await losses(r2.TaskId)).length, 0);
    });

    test('the total send limit (10070) pauses the certificate: the next push makes no request and is lost with 10070', async () => {
      const other = await h.createApp('vivo-quota');
      const cert = await call('set_certificate', { Vendor: 'vivo', Name: 'q', Config: { ...emu.app(), baseUrl: emu.base } }, other);
      const d = await phone('vv-quota', undefined, other, cert.CertId);
      emu.failNext(10070);
      const r1 = await call('batch', pushBody([d.registrationId]), other);
      await eventually(async () => (await losses(r1.TaskId)).length === 1);
      const before = emu.received.length;
      const r2 = await call('batch', pushBody([d.registrationId]), other);
      await eventually(async () => (await losses(r2.TaskId)).length === 1);
      assert.deepEqual([(await losses(r1.TaskId))[0]!.code, (await losses(r2.TaskId))[0]!.code], [10070, 10070]);
      assert.equal(emu.received.length, before, 'no request while paused');
      assert.equal(await tokenOf(h, d.registrationId), 'vv-quota');
    });

    test('the adapter: an unknown refusal is tried once more with a new authToken, then lost with its code', async () => {
      const config = { ...emu.app(), baseUrl: emu.base };
      const auths = emu.authRequests.length;
      emu.failNext(12345);
      emu.failNext(12345);
      const [x] = await vivoAdapter.send(config, plainMessage('task-u'), [{ registrationId: 'r', token: 'vv-x', locale: null }], {});
      assert.deepEqual([x!.outcome, x!.outcome === 'sent' ? 0 : x!.code], ['failed', 12345]);
      assert.equal(emu.authRequests.length, auths + 2, 'the first token and one renewal');
    });

    test('status 2 (uninstalled or notifications off) keeps the token, records notifications as denied and is a loss with that reason', async () => {
      const off = await phone('vv-off');
      emu.invalidate('vv-off', 2);
      const r = await call('batch', pushBody([off.registrationId]));
      const [l] = await eventually(async () => {
        const rows = await losses(r.TaskId);
        return rows.length > 0 ? rows : undefined;
      });
      assert.deepEqual([l!.code, l!.stage], [10302, 'post_send']);
      assert.match(l!.reason, /notifications switched off on the device; token kept\): invalid user, status 2/);
      assert.equal(await tokenOf(h, off.registrationId), 'vv-off');
      assert.equal(await permissionOf(h, off.registrationId), 'denied');
    });

    test("the adapter: title and content are cut to vivo's width (a Chinese character counts two, ASCII one); timeToLive reaches 7 days", async () => {
      const config = { ...emu.app(), baseUrl: emu.base };
      const target = [{ registrationId: 'r', token: 'vv-width', locale: null }];
      const [x] = await vivoAdapter.send(config, plainMessage('task-w', '标'.repeat(25), `ab${'内'.repeat(60)}`, 3 * 86_400_000), target, {});
      assert.equal(x!.outcome, 'sent', JSON.stringify(x));
      const m = emu.received.at(-1)!.message;
      // 18 × 2 + 3 = 39 of 40; 2 + 47 × 2 + 3 = 99 of 100
      assert.deepEqual([m.title, m.content], [`${'标'.repeat(18)}...`, `ab${'内'.repeat(47)}...`]);
      assert.ok(Number(m.timeToLive) > 3 * 86_400 - 10 && Number(m.timeToLive) <= 3 * 86_400, String(m.timeToLive));
      const [y] = await vivoAdapter.send(config, plainMessage('task-w2', 'T'.repeat(40), '中'.repeat(50), 10 * 86_400_000), target, {});
      assert.equal(y!.outcome, 'sent', JSON.stringify(y));
      const n = emu.received.at(-1)!.message;
      assert.deepEqual([n.title, n.content, n.timeToLive], ['T'.repeat(40), '中'.repeat(50), 7 * 86_400], 'at the limits nothing is cut; TTL is capped at 7 days');
    });

    test('credentials vivo refuses stop the certificate: every token stays, its devices are lost, nothing more is sent until it is replaced', async () => {
      const other = await h.createApp('vivo-wrong');
      const real = emu.app();
      const wrong = await call('set_certificate', { Vendor: 'vivo', Name: 'w', Config: { ...real, appSecret: 'not-the-secret', baseUrl: emu.base } }, other);
      const phones = await Promise.all(['vv-w1', 'vv-w2', 'vv-w3'].map((t) => phone(t, undefined, other, wrong.CertId)));
      const r = await call('batch', pushBody(phones.map((p) => p.registrationId)), other);
      const lost = await eventually(async () => {
        const rows = await losses(r.TaskId);
        return rows.length === 3 ? rows : undefined;
      });
      assert.deepEqual(lost.map((l) => [l.code, l.stage]), [[-1, 'post_send'], [-1, 'post_send'], [-1, 'post_send']]);
      assert.match(lost[0]!.reason, /certificate was refused and is stopped; token kept\): vivo auth: sign mismatch/);
      for (const [i, p] of phones.entries()) assert.equal(await tokenOf(h, p.registrationId), `vv-w${i + 1}`);
      const [state] = (await call('get_certificates', { CertId: wrong.CertId }, other)).Certificates;
      assert.deepEqual([state.State, state.StopErrCode], ['stopped', -1]);
      assert.match(String(state.StopReason), /check the certificate's appId, appKey and appSecret/);
      const auths = emu.authRequests.length;
      const skipped = await call('batch', pushBody([phones[0]!.registrationId]), other);
      const [l] = await eventually(async () => {
        const rows = await losses(skipped.TaskId);
        return rows.length > 0 ? rows : undefined;
      });
      assert.deepEqual([l!.code, l!.stage], [-14, 'ready_to_send']);
      const fixed = await call('set_certificate', { CertId: wrong.CertId, Vendor: 'vivo', Name: 'w', Config: { ...real, baseUrl: emu.base } }, other);
      assert.equal(fixed.Certificate.State, 'active');
      const again = await call('batch', pushBody([phones[1]!.registrationId]), other);
      await eventually(async () => sentTo('vv-w2', again.TaskId));
      assert.equal(emu.authRequests.length, auths + 1, 'the replaced certificate signs a new authToken');
    });

    test('check: an authToken issued is a pass; a wrong appSecret fails with what to look at; nothing is sent', async () => {
      const good = { ...emu.app(), baseUrl: emu.base };
      const sent = emu.received.length;
      assert.deepEqual(await vivoAdapter.check!(good), { ok: true, info: `vivo issued an authToken for appId ${good.appId}` });
      const bad = await vivoAdapter.check!({ ...good, appSecret: 'wrong' });
      assert.equal(bad.ok, false);
      assert.match(bad.ok ? '' : bad.info, /sign mismatch: check the certificate's appId, appKey and appSecret/);
      const gone = await vivoAdapter.check!({ ...good, baseUrl: 'http://127.0.0.1:1' });
      assert.deepEqual([gone.ok, gone.ok ? '' : gone.info.startsWith('no answer from the vendor')], [false, true]);
      assert.equal(emu.received.length, sent);
    });
  });
}
