import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HarmonyEmulator, type HarmonyReceived } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { receiptPath } from '../src/channels/receipt-urls.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';
import { tokenOf } from './helpers/receipt-capture.js';

/** The notification of an alert payload, loosely typed for assertions. */
const note = (r: HarmonyReceived) => (r.payload as { notification: Record<string, any> }).notification;

for (const db of await testDatabases()) {
  describe(`offline push through HarmonyOS Push Kit v3 (${db.name})`, () => {
    let h: TestHerald;
    let emu: HarmonyEmulator;
    let app: App;
    let certId: number;
    let account: ReturnType<HarmonyEmulator['app']>;
    /** A second project and certificate, which one test has penalised. */
    let other: ReturnType<HarmonyEmulator['app']>;
    let penalisedCertId: number;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);
    const device = (token: string, locale?: string) => registerDevice(h.url, app, { platform: 'harmony', vendor: 'harmony', token, certificateId: certId, ...(locale ? { locale } : {}) });
    const of = (taskId: string) => emu.received.filter((x) => x.pushOptions.biTag === taskId);

    before(async () => {
      emu = new HarmonyEmulator();
      await emu.start();
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('harmony');
      account = emu.app();
      const cert = await call('set_certificate', { Vendor: 'harmony', Name: 'next', Config: { projectId: account.projectId, clientId: account.clientId, serviceAccount: account.serviceAccount, baseUrl: emu.base } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      certId = cert.CertId;
      other = emu.app();
      penalisedCertId = (await call('set_certificate', { Vendor: 'harmony', Name: 'penalised', Config: { projectId: other.projectId, serviceAccount: other.serviceAccount, baseUrl: emu.base } })).CertId;
    });
    after(() => stopWithEmulator(h, emu));

    test('alerts go per language with a PS256 JWT, push-type 0, HarmonyInfo fields, notifyId, TTL and biTag; an illegal token is cleared', async () => {
      const zh1 = await device('hm-zh-1', 'zh-CN');
      const zh2 = await device('hm-zh-2', 'zh-CN');
      const en = await device('hm-en', 'en-US');
      const dead = await device('hm-dead', 'zh-CN');
      emu.invalidate('hm-dead');
      const info = {
        Title: 'default',
        Desc: 'd'.repeat(5000),
        Ext: '{"p":1}',
        MultiLanguageContent: [{ Language: 'zh', Title: '标题', Desc: '内容' }],
        HarmonyInfo: { Title: 'harmony title', Category: 'IM', Image: 'https://example.com/i.png', Sound: 'ding.mp3', SoundDuration: 5 },
        BadgeAddNum: 2,
      };
      const r = await call('batch', pushBody([zh1.registrationId, zh2.registrationId, en.registrationId, dead.registrationId], info, { ExpireTime: 60 }));
      await eventually(async () => of(r.TaskId).length === 2 && (await losses(r.TaskId)).length === 1);
      const zh = of(r.TaskId).find((x) => x.tokens.includes('hm-zh-1'))!;
      const other = of(r.TaskId).find((x) => x.tokens.includes('hm-en'))!;
      assert.deepEqual(zh.tokens.sort(), ['hm-zh-1', 'hm-zh-2'], 'one request per language, the illegal token refused');
      assert.equal(zh.pushType, 0);
      assert.deepEqual(zh.jwt.header, { kid: account.serviceAccount.key_id, typ: 'JWT', alg: 'PS256' });
      assert.equal(zh.jwt.claims.iss, account.serviceAccount.sub_account);
      assert.equal(Number(zh.jwt.claims.exp) - Number(zh.jwt.claims.iat), 3600);
      const n = note(zh);
      assert.deepEqual([n.title, n.body, n.category, n.image, n.sound, n.soundDuration, n.badge], ['标题', '内容', 'IM', 'https://example.com/i.png', 'ding.mp3', 5, { addNum: 2 }]);
      assert.deepEqual(n.clickAction, { actionType: 0, data: { id: r.TaskId, ext: '{"p":1}' } });
      assert.equal(note(other).title, 'harmony title', 'HarmonyInfo.Title stands in for the default title');
      assert.equal(note(other).notifyId, n.notifyId, 'one notifyId per push');
      assert.match(note(other).body, /^d+\.\.\.$/, 'the text is cut so the body fits 4,096 bytes');
      assert.ok(Number(zh.pushOptions.ttl) > 55 && Number(zh.pushOptions.ttl) <= 60);
      const [l] = await losses(r.TaskId);
      assert.deepEqual([l!.registration_id, l!.code, l!.stage], [dead.registrationId, 80100000, 'post_send']);
      assert.equal(await tokenOf(h, dead.registrationId), null);
      assert.equal(await tokenOf(h, zh1.registrationId), 'hm-zh-1');
    });

    test('a refused JWT (80200005) is signed again once; flow control (503) is retried; all-users pushes reach offline devices', async () => {
      const d = await device('hm-retry');
      emu.failNext({ status: 401, code: '80200005', msg: 'JWT expired' });
      emu.failNext({ status: 503, code: '80300000', msg: 'flow control', retryAfter: 0 });
      const seen = emu.jwtsSeen.length;
      const r = await call('push', broadcastBody());
      await eventually(async () => of(r.TaskId).some((x) => x.tokens.includes('hm-retry')));
      assert.equal(emu.jwtsSeen.length, seen + 3, 'refused, re-signed and throttled, then accepted');
      assert.equal((await losses(r.TaskId)).length, 0);
      assert.ok(d.registrationId);
    });

    test('a recall withdraws the notification through messages:revoke with its notifyId and tokens', async () => {
      const d = await device('hm-recall');
      const r = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => of(r.TaskId).length === 1);
      const ok = await call('revoke', { TaskId: r.TaskId, OfflinePushInfo: { PushFlag: 0, Title: 'gone', Desc: '' } });
      assert.equal(ok.ActionStatus, 'OK', JSON.stringify(ok));
      await eventually(async () => emu.revoked.some((x) => x.tokens.includes('hm-recall')));
      const rv = emu.revoked.find((x) => x.tokens.includes('hm-recall'))!;
      assert.deepEqual(rv, { clientId: account.clientId, pushType: 0, notifyId: note(of(r.TaskId)[0]!).notifyId, tokens: ['hm-recall'] });
    });

    test('a configuration error keeps every token and stops the certificate: a penalised app is refused with 80300007', async () => {
      const tokens = ['hm-pen-1', 'hm-pen-2'];
      const ids = (await Promise.all(tokens.map((token) => registerDevice(h.url, app, { platform: 'harmony', vendor: 'harmony', token, certificateId: penalisedCertId })))).map((d) => d.registrationId);
      const info = { HarmonyInfo: { Category: 'IM' } };
      const ok = await call('batch', pushBody(ids, info));
      await eventually(async () => of(ok.TaskId).length === 1);
      emu.penalise(other.projectId);
      const r = await call('batch', pushBody(ids, info));
      const lost = await eventually(async () => ((await losses(r.TaskId)).length === 2 ? losses(r.TaskId) : undefined));
      assert.deepEqual(lost.map((l) => [l.code, l.stage]), [[80300007, 'post_send'], [80300007, 'post_send']]);
      assert.match(lost[0]!.reason, /certificate was refused and is stopped; token kept\): disableSendHuaweiMsgBecauseOfPenalty/);
      for (const [i, id] of ids.entries()) assert.equal(await tokenOf(h, id), tokens[i], 'the token stays');
      const [state] = (await call('get_certificates', { CertId: penalisedCertId })).Certificates;
      assert.deepEqual([state.State, state.StopErrCode], ['stopped', 80300007]);
      emu.pardon(other.projectId);
    });

    test("receipts posted to the certificate's receipt URL count arrivals per task and clear tokens the device no longer has", async () => {
      const a = await device('hm-rc-a');
      const b = await device('hm-rc-b');
      const r = await call('batch', pushBody([a.registrationId, b.registrationId]));
      await eventually(async () => of(r.TaskId).length === 1);
      emu.received.splice(0, emu.received.length, ...of(r.TaskId));
      const url = h.url + receiptPath(app.secretKey, 'harmony', app.sdkAppId, certId);
      assert.deepEqual(await emu.deliverReceipts(url, { 'hm-rc-b': 2 }), [200]);
      // get_push_task: the devices handed to the vendor, and those its receipts said arrived
      const vendors = async () => JSON.stringify((await call('get_push_task', { TaskId: r.TaskId })).Task.Vendors);
      await eventually(async () => (await vendors()) === JSON.stringify([{ Vendor: 'harmony', Sent: 2, Reached: 1 }]));
      assert.equal(await tokenOf(h, b.registrationId), null, 'status 2: the app is gone');
      assert.equal(await tokenOf(h, a.registrationId), 'hm-rc-a');
    });
  });
}
