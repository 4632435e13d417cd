import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HuaweiEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';

for (const db of await testDatabases()) {
  describe(`offline push through Huawei Push Kit (${db.name})`, () => {
    let h: TestHerald;
    let emu: HuaweiEmulator;
    let app: App;
    let certId: number;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);
    const phone = (token: string, locale?: string) => registerDevice(h.url, app, { platform: 'android', vendor: 'huawei', token, certificateId: certId, ...(locale ? { locale } : {}) });

    before(async () => {
      emu = new HuaweiEmulator();
      await emu.start();
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('hms');
      const { clientId, clientSecret } = emu.app();
      const cert = await call('set_certificate', { Vendor: 'huawei', Name: 'hms', Config: { clientId, clientSecret, baseUrl: emu.base, tokenUrl: `${emu.base}/oauth2/v3/token` } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      certId = cert.CertId;
    });
    after(() => stopWithEmulator(h, emu));

    test('devices go in batches per language; the title is cut to Huawei\'s 60 units; an illegal token is cleared and the rest are sent', async () => {
      const zh1 = await phone('hw-zh-1', 'zh-CN');
      const zh2 = await phone('hw-zh-2', 'zh-CN');
      const en = await phone('hw-en', 'en-US');
      const dead = await phone('hw-dead', 'zh-CN');
      emu.invalidate('hw-dead');
      const long = 'T'.repeat(70);
      const r = await call('batch', pushBody([zh1.registrationId, zh2.registrationId, en.registrationId, dead.registrationId], { Title: long, Desc: 'd', Ext: '{"p":1}', MultiLanguageContent: [{ Language: 'zh', Title: '标题', Desc: '内容' }], AndroidInfo: { HuaWeiChannelID: 'news', HuaWeiImportance: 'NORMAL', HuaWeiCategory: 'MARKETING' } }));
      await eventually(async () => emu.received.length === 2 && (await losses(r.TaskId)).length === 1);
      const zh = emu.received.find((x) => x.tokens.includes('hw-zh-1'))!;
      const enMsg = emu.received.find((x) => x.tokens.includes('hw-en'))!;
      assert.deepEqual(zh.tokens.sort(), ['hw-zh-1', 'hw-zh-2'], 'the illegal token was refused, the others in one request');
      const n = (zh.message as any).android.notification;
      assert.deepEqual([n.title, n.body, n.channel_id, n.importance, n.click_action.type], ['标题', '内容', 'news', 'NORMAL', 3]);
      assert.equal((zh.message as any).android.category, 'MARKETING');
      assert.deepEqual(JSON.parse((zh.message as any).data), { id: r.TaskId, ext: '{"p":1}' });
      assert.equal((enMsg.message as any).android.notification.title, `${'T'.repeat(57)}...`);
      const [l] = await losses(r.TaskId);
      assert.deepEqual([l!.registration_id, l!.code, l!.stage], [dead.registrationId, 80100000, 'post_send']);
      assert.equal((await h.herald.store.db.selectFrom('devices').select('token').where('registration_id', '=', dead.registrationId).executeTakeFirstOrThrow()).token, null);
    });

    test('an expired access token (80200003) is renewed once; all-users pushes reach offline Huawei devices', async () => {
      const d = await phone('hw-renew');
      const before = emu.tokenRequests.length;
      emu.expireAccessTokens();
      const r = await call('push', broadcastBody());
      await eventually(async () => emu.received.some((x) => x.tokens.includes('hw-renew') && JSON.parse((x.message as any).data).id === r.TaskId));
      assert.equal(emu.tokenRequests.length, before + 1);
      assert.ok(d.registrationId);
    });
  });
}
