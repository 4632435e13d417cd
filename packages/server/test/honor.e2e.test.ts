import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HonorEmulator, type HonorReceived } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';
import { tokenOf } from './helpers/receipt-capture.js';

/** The android part of a sendMessage body, loosely typed for assertions. */
const android = (r: HonorReceived) => r.body.android as { ttl: string; biTag: string; notification: Record<string, any> };

for (const db of await testDatabases()) {
  describe(`offline push through Honor Push (${db.name})`, () => {
    let h: TestHerald;
    let emu: HonorEmulator;
    let app: App;
    let certId: number;
    let honorApp: ReturnType<HonorEmulator['app']>;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);
    const phone = (token: string, locale?: string) => registerDevice(h.url, app, { platform: 'android', vendor: 'honor', token, certificateId: certId, ...(locale ? { locale } : {}) });
    const of = (taskId: string) => emu.received.filter((x) => android(x).biTag === taskId);

    before(async () => {
      emu = new HonorEmulator();
      await emu.start();
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('honor');
      honorApp = emu.app();
      const cert = await call('set_certificate', { Vendor: 'honor', Name: 'honor', Config: { ...honorApp, baseUrl: emu.base, tokenUrl: `${emu.base}/auth/token`, badgeClass: 'com.example.app.MainActivity' } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      certId = cert.CertId;
    });
    after(() => stopWithEmulator(h, emu));

    test("tokens go per language with Honor's 50/400 limits, TTL, notifyId, importance, image, big text and badge; an expired token is cleared", async () => {
      const zh1 = await phone('ho-zh-1', 'zh-CN');
      const zh2 = await phone('ho-zh-2', 'zh-CN');
      const en = await phone('ho-en', 'en-US');
      const dead = await phone('ho-dead', 'zh-CN');
      emu.invalidate('ho-dead');
      const info = { Title: 'T'.repeat(60), Desc: 'D'.repeat(500), Ext: '{"p":1}', MultiLanguageContent: [{ Language: 'zh', Title: '荣耀', Desc: '推送' }], AndroidInfo: { HonorImportance: 'NORMAL', HonorImage: 'https://example.com/i.png', PushStyle: 1 }, BadgeAddNum: 1 };
      const r = await call('batch', pushBody([zh1.registrationId, zh2.registrationId, en.registrationId, dead.registrationId], info, { ExpireTime: 60 }));
      await eventually(async () => of(r.TaskId).length === 2 && (await losses(r.TaskId)).length === 1);
      const zh = of(r.TaskId).find((x) => x.tokens.includes('ho-zh-1'))!;
      const other = of(r.TaskId).find((x) => x.tokens.includes('ho-en'))!;
      assert.deepEqual(zh.tokens.sort(), ['ho-zh-1', 'ho-zh-2'], 'one request per language; the expired token was answered in expireTokens');
      assert.equal(zh.appId, honorApp.appId);
      assert.ok(Math.abs(Number(zh.timestamp) - Date.now()) < 10_000, 'timestamp header in ms');
      const n = android(zh).notification;
      assert.deepEqual([n.title, n.body, n.importance, n.image, n.style, n.bigTitle, n.bigBody, n.clickAction.type], ['荣耀', '推送', 'NORMAL', 'https://example.com/i.png', 1, '荣耀', '推送', 3]);
      assert.deepEqual(JSON.parse(String(zh.body.data)), { id: r.TaskId, ext: '{"p":1}' });
      assert.deepEqual(n.badge, { addNum: 1, badgeClass: 'com.example.app.MainActivity' });
      const o = android(other).notification;
      assert.deepEqual([o.title, o.body.length], [`${'T'.repeat(47)}...`, 400]);
      assert.equal(o.notifyId, n.notifyId, 'one notifyId per push');
      const ttl = parseInt(android(zh).ttl, 10);
      assert.ok(ttl > 55 && ttl <= 60, android(zh).ttl);
      const [l] = await losses(r.TaskId);
      assert.deepEqual([l!.registration_id, l!.stage], [dead.registrationId, 'post_send']);
      assert.equal(await tokenOf(h, dead.registrationId), null);
      assert.equal(await tokenOf(h, zh1.registrationId), 'ho-zh-1');
    });

    test('a refused access token is renewed once; a busy answer (503) is retried; all-users pushes reach offline Honor devices', async () => {
      await phone('ho-retry');
      const before = emu.tokenRequests.length;
      emu.expireAccessTokens();
      emu.failNext(503, 0);
      const r = await call('push', broadcastBody());
      await eventually(async () => of(r.TaskId).some((x) => x.tokens.includes('ho-retry')));
      assert.equal(emu.tokenRequests.length, before + 1);
      assert.equal((await losses(r.TaskId)).length, 0);
    });

    test('a refusal that is not retried is a loss with its code and keeps the token', async () => {
      const d = await phone('ho-refused');
      emu.failNext(403);
      const r = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => (await losses(r.TaskId)).length === 1);
      assert.equal((await losses(r.TaskId))[0]!.code, 403);
      assert.equal(await tokenOf(h, d.registrationId), 'ho-refused');
    });

    test('a recall overwrites the notification: the same notifyId with the replacement text', async () => {
      const d = await phone('ho-recall');
      const r = await call('batch', pushBody([d.registrationId], { Title: 'original' }));
      await eventually(async () => of(r.TaskId).length === 1);
      const ok = await call('revoke', { TaskId: r.TaskId, OfflinePushInfo: { PushFlag: 0, Title: 'withdrawn', Desc: 'this message was recalled' } });
      assert.equal(ok.ActionStatus, 'OK', JSON.stringify(ok));
      await eventually(async () => of(r.TaskId).length === 2);
      const [first, second] = of(r.TaskId).map((x) => android(x).notification);
      assert.deepEqual([second!.title, second!.body, second!.notifyId], ['withdrawn', 'this message was recalled', first!.notifyId]);
    });
  });
}
