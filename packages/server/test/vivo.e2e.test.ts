import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VivoEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { vivoAdapter } from '../src/channels/vendors/vivo.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';
import { plainMessage, tokenOf } from './helpers/receipt-capture.js';

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

    test("a saved list payload per language pushed to its regIds, with vivo's limits, TTL, notifyId, classification and category; invalid users are cleared", async () => {
      const zh1 = await phone('vv-zh-1', 'zh-CN');
      const zh2 = await phone('vv-zh-2', 'zh-CN');
      const de1 = await phone('vv-de-1', 'de-DE');
      const de2 = await phone('vv-de-2', 'de-DE');
      const dead = await phone('vv-dead', 'zh-CN');
      emu.invalidate('vv-dead', 2);
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
      await eventually(async () => (await tokenOf(h, gone.registrationId)) === null);
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
  });
}
