import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HuaweiEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { receiptPath } from '../src/channels/receipt-urls.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';
import { tokenOf } from './helpers/receipt-capture.js';

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
      const cert = await call('set_certificate', { Vendor: 'huawei', Name: 'hms', Config: { clientId, clientSecret, baseUrl: emu.base, tokenUrl: `${emu.base}/oauth2/v3/token`, badgeClass: 'com.example.app.MainActivity' } });
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

    test("the badge (BadgeSetNum wins over BadgeAddNum, with the certificate's class) and big text (PushStyle 1)", async () => {
      const d = await phone('hw-badge');
      await call('batch', pushBody([d.registrationId], { Title: 'News', Desc: 'long text', BadgeAddNum: 2, BadgeSetNum: 120, AndroidInfo: { PushStyle: 1 } }));
      const got = await eventually(async () => emu.received.find((x) => x.tokens.includes('hw-badge')));
      const n = (got.message as any).android.notification;
      assert.deepEqual(n.badge, { set_num: 99, class: 'com.example.app.MainActivity' }, 'set wins, capped at 99');
      assert.deepEqual([n.style, n.big_title, n.big_body], [1, 'News', 'long text']);
      await call('batch', pushBody([d.registrationId], { BadgeAddNum: 3 }));
      await eventually(async () => emu.received.filter((x) => x.tokens.includes('hw-badge')).length === 2);
      const add = emu.received.filter((x) => x.tokens.includes('hw-badge'))[1]!;
      assert.deepEqual((add.message as any).android.notification.badge, { add_num: 3, class: 'com.example.app.MainActivity' });
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

    test('flow control (503) is retried after its Retry-After, then delivered', async () => {
      const d = await phone('hw-flow');
      emu.failNext(503, '80000003', 1);
      const r = await call('batch', pushBody([d.registrationId]));
      const got = await eventually(async () => emu.received.find((x) => x.tokens.includes('hw-flow')), 8000);
      assert.ok(got.receivedAt - emu.rejected.at(-1)! >= 900, 'waited for Retry-After');
      assert.equal((await losses(r.TaskId)).length, 0);
    });

    test('a recall overwrites the notification: the same notify_id and tag with the replacement text, without bi_tag', async () => {
      const d = await phone('hw-recall');
      const r = await call('batch', pushBody([d.registrationId], { Title: 'original' }));
      const mine = () => emu.received.filter((x) => x.tokens.includes('hw-recall')).map((x) => (x.message as any).android);
      await eventually(async () => mine().length === 1);
      const ok = await call('revoke', { TaskId: r.TaskId, OfflinePushInfo: { PushFlag: 0, Title: 'withdrawn', Desc: 'recalled' } });
      assert.equal(ok.ActionStatus, 'OK', JSON.stringify(ok));
      await eventually(async () => mine().length === 2);
      const [first, second] = mine();
      assert.equal(first.bi_tag, r.TaskId);
      assert.deepEqual([second.notification.title, second.notification.body, second.notification.notify_id, second.notification.tag, second.bi_tag], ['withdrawn', 'recalled', first.notification.notify_id, first.notification.tag, undefined]);
    });

    test('receipts (bi_tag = TaskId) posted to the certificate\'s receipt URL count arrivals and clear a token the device no longer has', async () => {
      const a = await phone('hw-rc-a');
      const b = await phone('hw-rc-b');
      const r = await call('batch', pushBody([a.registrationId, b.registrationId]));
      const ofTask = () => emu.received.filter((x) => (x.message as any).android.bi_tag === r.TaskId);
      await eventually(async () => ofTask().length === 1);
      emu.received.splice(0, emu.received.length, ...ofTask());
      assert.deepEqual(await emu.deliverReceipts(h.url + receiptPath(app.secretKey, 'huawei', app.sdkAppId, certId), { 'hw-rc-b': 5 }), [200]);
      // get_push_task: the devices handed to the vendor, and those its receipts said arrived
      const vendors = async () => JSON.stringify((await call('get_push_task', { TaskId: r.TaskId })).Task.Vendors);
      await eventually(async () => (await vendors()) === JSON.stringify([{ Vendor: 'huawei', Sent: 2, Reached: 1 }]));
      assert.equal(await tokenOf(h, b.registrationId), null, 'status 5: the token is not on the device');
      assert.equal(await tokenOf(h, a.registrationId), 'hw-rc-a');
    });
  });
}
