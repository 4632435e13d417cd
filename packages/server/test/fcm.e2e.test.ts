import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FcmEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { ackingDevice, admin, broadcastBody, eventually, pushBody, registerDevice, sleep, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';
import { tokenOf } from './helpers/receipt-capture.js';

for (const db of await testDatabases()) {
  describe(`offline push through FCM (${db.name})`, () => {
    let h: TestHerald;
    let emu: FcmEmulator;
    let app: App;
    let certId: number;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);
    const android = (token: string, extra: Record<string, unknown> = {}) => registerDevice(h.url, app, { platform: 'android', vendor: 'fcm', token, certificateId: certId, ...extra });
    const sent = (token: string) => emu.received.filter((r) => r.message.token === token);
    const ofTask = (taskId: string) => emu.received.filter((r) => (r.message.data as Record<string, string> | undefined)?.id === taskId);
    /** A new app whose one FCM certificate has this service account (certificates are cached per app for a few seconds). */
    const certified = async (serviceAccount: Record<string, string>) => {
      const a = await h.createApp('fcm-other');
      const cert = await admin(h.url, a, 'set_certificate', { Vendor: 'fcm', Name: 'firebase', Config: { serviceAccount, baseUrl: emu.base, caCertificate: emu.caCertificate } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      return {
        app: a,
        android: (token: string) => registerDevice(h.url, a, { platform: 'android', vendor: 'fcm', token, certificateId: cert.CertId }),
        state: async () => (await admin(h.url, a, 'get_certificates', { CertId: cert.CertId })).Certificates[0].State as string,
      };
    };

    before(async () => {
      emu = new FcmEmulator();
      await emu.start();
      h = await startTestHerald(db);
      app = await h.createApp('fcm');
      const cert = await call('set_certificate', { Vendor: 'fcm', Name: 'firebase', Config: { serviceAccount: emu.serviceAccount('herald-test'), baseUrl: emu.base, caCertificate: emu.caCertificate } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      certId = cert.CertId;
    });
    after(() => stopWithEmulator(h, emu));

    test('an offline Android device gets an FCM v1 message over HTTP/2: OAuth token, notification in its language, data, TTL, channel and priority', async () => {
      const d = await android('tok-1', { locale: 'fr-FR' });
      const r = await call('batch', pushBody([d.registrationId], { Title: 'Sale', Desc: 'today', Ext: '{"page":"sale"}', BadgeSetNum: 3, MultiLanguageContent: [{ Language: 'fr', Title: 'Soldes', Desc: "aujourd'hui" }], AndroidInfo: { GoogleChannelID: 'promo', GooglePriority: 'high', Sound: 'ding' } }, { ExpireTime: 600 }));
      const [m] = await eventually(async () => (sent('tok-1').length ? sent('tok-1') : undefined));
      const msg = m!.message as any;
      assert.equal(m!.projectId, 'herald-test');
      assert.deepEqual(msg.notification, { title: 'Soldes', body: "aujourd'hui" });
      assert.deepEqual(msg.data, { id: r.TaskId, ext: '{"page":"sale"}' });
      assert.equal(msg.android.priority, 'HIGH');
      assert.match(msg.android.ttl, /^(59\d|600)s$/);
      assert.deepEqual([msg.android.notification.channel_id, msg.android.notification.sound, msg.android.notification.notification_count], ['promo', 'ding', 3]);
      assert.equal(emu.tokenRequests.length, 1);
      assert.deepEqual([...emu.httpVersions], ['2.0'], 'token and send over HTTP/2');
    });

    test('the access token is reused, and fetched again once when FCM refuses it (401)', async () => {
      const d = await android('tok-2');
      await call('batch', pushBody([d.registrationId]));
      await eventually(async () => sent('tok-2').length === 1);
      assert.equal(emu.tokenRequests.length, 1, 'cached');
      emu.expireAccessTokens();
      await call('batch', pushBody([d.registrationId]));
      await eventually(async () => sent('tok-2').length === 2);
      assert.equal(emu.tokenRequests.length, 2, 'refreshed once after the 401');
    });

    test('UNREGISTERED clears the token and records the loss; QUOTA_EXCEEDED with Retry-After is retried', async () => {
      const gone = await android('tok-gone');
      emu.unregister('tok-gone');
      const r = await call('batch', pushBody([gone.registrationId]));
      await eventually(async () => (await losses(r.TaskId)).length === 1);
      const [l] = await losses(r.TaskId);
      assert.deepEqual([l!.code, l!.stage], [404, 'post_send']);
      assert.match(l!.reason, /^fcm \(token cleared\): UNREGISTERED/);
      assert.equal((await h.herald.store.db.selectFrom('devices').select('token').where('registration_id', '=', gone.registrationId).executeTakeFirstOrThrow()).token, null);

      const busy = await android('tok-busy');
      emu.failNext('tok-busy', { status: 429, errorCode: 'QUOTA_EXCEEDED', retryAfter: 1 });
      const t0 = Date.now();
      await call('batch', pushBody([busy.registrationId]));
      await eventually(async () => sent('tok-busy').length === 1, 8000);
      assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After');
    });

    test("an ExpireTime over FCM's 4 weeks is sent as android.ttl 2,419,200 s, the most FCM takes", async () => {
      const d = await android(emu.deviceToken());
      const r = await call('batch', pushBody([d.registrationId], {}, { ExpireTime: 30 * 86400 }));
      const [m] = await eventually(async () => (ofTask(r.TaskId).length ? ofTask(r.TaskId) : undefined));
      assert.equal((m!.message as any).android.ttl, '2419200s');
      assert.equal((await losses(r.TaskId)).length, 0);
    });

    test('FCM answers sorted: an invalid token is cleared; a token of another project on a proven certificate is kept; a batch where some devices are taken stops nothing', async () => {
      const proof = await android(emu.deviceToken());
      const ok = await call('batch', pushBody([proof.registrationId]));
      await eventually(async () => (await call('get_certificates', { CertId: certId })).Certificates[0].Proven === true && ofTask(ok.TaskId).length === 1);

      const invalid = await android('not a token!');
      const foreign = emu.deviceToken('another-project');
      const stray = await android(foreign);
      const r = await call('batch', pushBody([invalid.registrationId, stray.registrationId]));
      const lost = await eventually(async () => ((await losses(r.TaskId)).length === 2 ? losses(r.TaskId) : undefined));
      const byId = new Map(lost.map((l) => [l.registration_id, l]));
      assert.equal(byId.get(invalid.registrationId)!.code, 400);
      assert.match(byId.get(invalid.registrationId)!.reason, /^fcm \(token cleared\): INVALID_ARGUMENT The registration token is not a valid FCM registration token/);
      assert.equal(await tokenOf(h, invalid.registrationId), null);
      assert.equal(byId.get(stray.registrationId)!.code, 403);
      assert.match(byId.get(stray.registrationId)!.reason, /^fcm: SENDER_ID_MISMATCH SenderId mismatch.*token kept/);
      assert.equal(await tokenOf(h, stray.registrationId), foreign);
      assert.equal((await call('get_certificates', { CertId: certId })).Certificates[0].State, 'active');

      // a certificate never taken, but the same call has a device taken: the stray token is about itself
      const fresh = await certified(emu.serviceAccount('herald-test'));
      const good = await fresh.android(emu.deviceToken('herald-test'));
      const otherToken = emu.deviceToken('another-project');
      const other = await fresh.android(otherToken);
      const b = await admin(h.url, fresh.app, 'batch', pushBody([good.registrationId, other.registrationId]));
      const [l] = await eventually(async () => ((await losses(b.TaskId)).length === 1 ? losses(b.TaskId) : undefined));
      assert.deepEqual([l!.registration_id, l!.code], [other.registrationId, 403]);
      assert.match(l!.reason, /other devices of the same call were taken/);
      assert.equal(await tokenOf(h, other.registrationId), otherToken);
      assert.equal(ofTask(b.TaskId).length, 1);
      assert.equal(await fresh.state(), 'active');
    });

    test('credentials FCM refuses stop the certificate and keep every token: another project, a project_id not the account\'s, a disabled account, missing APNs credentials in Firebase, a project not found', async () => {
      const mine = emu.serviceAccount('herald-test');
      const disabled = emu.serviceAccount('herald-test');
      const cases = [
        { name: 'another project', account: emu.serviceAccount('another-project'), code: 403, reason: /SENDER_ID_MISMATCH/ },
        { name: 'project_id edited', account: { ...mine, project_id: 'herald-tset' }, code: 403, reason: /PERMISSION_DENIED|Permission to send messages denied/ },
        { name: 'disabled', account: disabled, code: 400, reason: /Google refused the service account .*invalid_grant/, before: () => emu.disableServiceAccount(disabled.client_email!) },
        { name: 'no APNs key in Firebase', account: mine, code: 401, reason: /THIRD_PARTY_AUTH_ERROR/, token: (t: string) => emu.failNext(t, { status: 401, errorCode: 'THIRD_PARTY_AUTH_ERROR', times: 5 }) },
        // injected: a 404 with no UNREGISTERED detail, as for a project path FCM does not find
        { name: 'project not found', account: mine, code: 404, reason: /^fcm .*: 404 injected: the token is not of this service account's project/, token: (t: string) => emu.failNext(t, { status: 404, errorCode: '', times: 5 }) },
      ];
      for (const c of cases) {
        const fresh = await certified(c.account);
        const tokens = [emu.deviceToken('herald-test'), emu.deviceToken('herald-test')];
        const ds = await Promise.all(tokens.map((t) => fresh.android(t)));
        c.before?.();
        for (const t of tokens) c.token?.(t);
        const r = await admin(h.url, fresh.app, 'batch', pushBody(ds.map((d) => d.registrationId)));
        const lost = await eventually(async () => ((await losses(r.TaskId)).length === 2 ? losses(r.TaskId) : undefined));
        for (const l of lost) {
          assert.equal(l.code, c.code, `${c.name}: ${l.reason}`);
          assert.match(l.reason, /^fcm \(the certificate was refused and is stopped; token kept\)/, c.name);
          assert.match(l.reason, c.reason, c.name);
        }
        for (const [i, d] of ds.entries()) assert.equal(await tokenOf(h, d.registrationId), tokens[i], `${c.name}: token kept`);
        assert.equal(await fresh.state(), 'stopped', c.name);
      }
    });

    test('a recall overwrites the notification on the devices FCM was sent it through (same tag), and on no other', async () => {
      const offline = await android('tok-recall-off');
      const online = await android('tok-recall-on');
      const socket = await ackingDevice(h.url, app, online);
      try {
        const r = await call('batch', pushBody([offline.registrationId, online.registrationId], { Title: 'Flash sale', Desc: '50% off' }));
        await eventually(async () => sent('tok-recall-off').length === 1);
        await eventually(() => h.herald.store.db.selectFrom('inbox').select('seq').where('task_id', '=', r.TaskId).where('registration_id', '=', online.registrationId).where('acked_at', 'is not', null).executeTakeFirst());
        const ok = await call('revoke', { TaskId: r.TaskId, OfflinePushInfo: { Title: 'Sale over', Desc: 'sorry' } });
        assert.equal(ok.ActionStatus, 'OK', JSON.stringify(ok));
        const [first, replacement] = await eventually(async () => (sent('tok-recall-off').length === 2 ? sent('tok-recall-off') : undefined));
        const m1 = first!.message as any;
        const m2 = replacement!.message as any;
        assert.deepEqual(m2.notification, { title: 'Sale over', body: 'sorry' });
        assert.equal(m2.android.notification.tag, m1.android.notification.tag, 'the replacement takes the same tag');
        assert.equal(sent('tok-recall-on').length, 0, 'the connected device got it on the gateway, not through FCM');

        // all-users pushes keep no record of vendor sends: an overwrite could show the replacement on devices that never had the push
        await sleep(1100);
        const b = await call('push', broadcastBody());
        await eventually(async () => sent('tok-recall-off').length === 3);
        assert.equal((await call('revoke', { TaskId: b.TaskId, OfflinePushInfo: { Title: 'x', Desc: 'y' } })).ActionStatus, 'OK');
        await sleep(300);
        assert.equal(sent('tok-recall-off').length, 3);
      } finally {
        socket.close();
      }
    });

    test("over FCM's 4,096 bytes the text is cut to fit; a payload that cannot fit (a huge Ext) is a loss saying why", async () => {
      const d = await android('tok-big');
      await call('batch', pushBody([d.registrationId], { Title: 'Long', Desc: 'é'.repeat(5000) }));
      const [m] = await eventually(async () => (sent('tok-big').length ? sent('tok-big') : undefined));
      const body = (m!.message as any).notification.body as string;
      assert.ok(body.endsWith('...') && body.length > 1000, `cut, not emptied: ${body.length}`);
      assert.ok(Buffer.byteLength(JSON.stringify({ message: m!.message })) <= 4096);
      const r = await call('batch', pushBody([d.registrationId], { Title: 'Ext', Desc: 'x', Ext: 'e'.repeat(5000) }));
      await eventually(async () => (await losses(r.TaskId)).length === 1);
      const [l] = await losses(r.TaskId);
      assert.equal(l!.code, 400);
      assert.match(l!.reason, /over FCM's 4096 bytes/);
      assert.equal(sent('tok-big').length, 1, 'nothing sent that FCM would refuse');
    });
  });
}
