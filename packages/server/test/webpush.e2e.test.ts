import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebPushEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import webpush from 'web-push';
import { ackingDevice, admin, broadcastBody, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';
import { tokenOf } from './helpers/receipt-capture.js';

for (const db of await testDatabases()) {
  describe(`offline push through Web Push (${db.name})`, () => {
    let h: TestHerald;
    let emu: WebPushEmulator;
    let app: App;
    let certId: number;
    let publicKey: string;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);
    const browser = async (extra: Record<string, unknown> = {}) => {
      const sub = emu.subscribe();
      const d = await registerDevice(h.url, app, { platform: 'web', vendor: 'webpush', token: JSON.stringify(sub), certificateId: certId, ...extra });
      return { ...d, sub, id: sub.endpoint.split('/').pop()! };
    };
    const got = (id: string) => emu.received.filter((r) => r.id === id).map((r) => ({ ...r, body: JSON.parse(r.payload) }));

    before(async () => {
      emu = new WebPushEmulator();
      await emu.start();
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('web');
      const cert = await call('set_certificate', { Vendor: 'webpush', Name: 'site', Config: { subject: 'mailto:ops@example.com' } });
      certId = cert.CertId;
      publicKey = cert.Certificate.Config.publicKey;
    });
    after(() => stopWithEmulator(h, emu));

    test('an offline browser gets the push through its push service: encrypted, VAPID-signed, in its language, with a TTL', async () => {
      const b = await browser({ locale: 'zh-Hant-TW' });
      const r = await call('batch', pushBody([b.registrationId], { Title: 'Sale', Desc: 'today', Ext: '{"page":"sale"}', MultiLanguageContent: [{ Language: 'zh-Hant', Title: '特價', Desc: '今天' }] }, { ExpireTime: 3600 }));
      const [p] = await eventually(async () => (got(b.id).length ? got(b.id) : undefined));
      assert.deepEqual([p!.body.id, p!.body.title, p!.body.desc, p!.body.ext, p!.body.lang], [r.TaskId, '特價', '今天', '{"page":"sale"}', 'zh-Hant']);
      assert.equal(p!.vapidKey, publicKey);
      assert.equal(p!.claims.sub, 'mailto:ops@example.com');
      assert.ok(p!.ttl > 3500 && p!.ttl <= 3600, `TTL ${p!.ttl}`);
      assert.equal((await losses(r.TaskId)).length, 0);
    });

    test('a connected browser is served by the gateway, not the push service; an all-users push reaches the offline ones', async () => {
      const on = await browser();
      const off = await browser();
      const c = await ackingDevice(h.url, app, on);
      const r = await call('push', broadcastBody());
      await c.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      await eventually(async () => got(off.id).some((p) => p.body.id === r.TaskId));
      assert.equal(got(on.id).filter((p) => p.body.id === r.TaskId).length, 0);
      c.close();
    });

    test('a gone subscription (410) clears the token and is a loss with the vendor code; 429 with Retry-After is retried', async () => {
      const gone = await browser();
      emu.unsubscribe(gone.sub.endpoint);
      const r = await call('batch', pushBody([gone.registrationId]));
      await eventually(async () => (await losses(r.TaskId)).length > 0);
      const [l] = await losses(r.TaskId);
      assert.deepEqual([l!.code, l!.stage], [410, 'post_send']);
      assert.match(l!.reason, /^webpush \(token cleared\)/);
      const row = await h.herald.store.db.selectFrom('devices').select('token').where('registration_id', '=', gone.registrationId).executeTakeFirstOrThrow();
      assert.equal(row.token, null);

      const busy = await browser();
      emu.failNext(busy.id, { status: 429, retryAfter: 1 });
      const t0 = Date.now();
      const r2 = await call('batch', pushBody([busy.registrationId]));
      await eventually(async () => got(busy.id).some((p) => p.body.id === r2.TaskId), 8000);
      assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After');
      assert.deepEqual(emu.requests.filter((q) => q.id === busy.id).map((q) => q.status), [429, 201]);
    });

    test('VAPID refused: keys that are not a pair stop a certificate never taken, tokens kept; on a proven one a subscription made for another key is a loss, token kept; 413 is a loss, not retried', async () => {
      // an operator pasted the public key of one pair and the private key of another
      const site = await h.createApp('web-mismatched');
      const [a, b] = [webpush.generateVAPIDKeys(), webpush.generateVAPIDKeys()];
      const cert = await admin(h.url, site, 'set_certificate', { Vendor: 'webpush', Name: 'site', Config: { publicKey: a.publicKey, privateKey: b.privateKey, subject: 'mailto:ops@example.com' } });
      const subs = [emu.subscribe(), emu.subscribe()];
      const ds = await Promise.all(subs.map((sub) => registerDevice(h.url, site, { platform: 'web', vendor: 'webpush', token: JSON.stringify(sub), certificateId: cert.CertId })));
      const r = await admin(h.url, site, 'batch', pushBody(ds.map((d) => d.registrationId)));
      const lost = await eventually(async () => ((await losses(r.TaskId)).length === 2 ? losses(r.TaskId) : undefined));
      for (const l of lost) {
        assert.equal(l.code, 403);
        assert.match(l.reason, /^webpush \(the certificate was refused and is stopped; token kept\): VAPID refused: JWT signature does not verify/);
      }
      for (const [i, d] of ds.entries()) assert.equal(await tokenOf(h, d.registrationId), JSON.stringify(subs[i]));
      assert.equal((await admin(h.url, site, 'get_certificates', { CertId: cert.CertId })).Certificates[0].State, 'stopped');

      // the app's certificate has worked; a browser subscribed under another key (before a key change) is refused alone
      const proof = await browser();
      const ok = await call('batch', pushBody([proof.registrationId]));
      await eventually(async () => got(proof.id).some((p) => p.body.id === ok.TaskId));
      await eventually(async () => (await call('get_certificates', { CertId: certId })).Certificates[0].Proven === true);
      const old = emu.subscribe(webpush.generateVAPIDKeys().publicKey);
      const stale = await registerDevice(h.url, app, { platform: 'web', vendor: 'webpush', token: JSON.stringify(old), certificateId: certId });
      const big = await browser();
      emu.failNext(big.id, { status: 413 });
      const s = await call('batch', pushBody([stale.registrationId, big.registrationId]));
      const both = await eventually(async () => ((await losses(s.TaskId)).length === 2 ? losses(s.TaskId) : undefined));
      const byId = new Map(both.map((l) => [l.registration_id, l]));
      assert.equal(byId.get(stale.registrationId)!.code, 403);
      assert.match(byId.get(stale.registrationId)!.reason, /^webpush: VAPID refused: the VAPID key is not the one the subscription was made with.*token kept/);
      assert.equal(await tokenOf(h, stale.registrationId), JSON.stringify(old));
      assert.equal(byId.get(big.registrationId)!.code, 413);
      assert.match(byId.get(big.registrationId)!.reason, /^webpush: payload too large/);
      assert.equal(emu.requests.filter((q) => q.id === big.id).length, 1, 'not retried');
      assert.equal(await tokenOf(h, big.registrationId), JSON.stringify(big.sub));
      assert.equal((await call('get_certificates', { CertId: certId })).Certificates[0].State, 'active');
    });

    test('devices the channels cannot serve are losses with their reason: no token (-2), no certificate (-1), no channel (-9)', async () => {
      // a fresh app: certificates are read through a cache of a few seconds
      const other = await h.createApp('mixed');
      const none = await registerDevice(h.url, other, { platform: 'web' });
      const noCert = await registerDevice(h.url, other, { platform: 'android', vendor: 'huawei', token: 'hw-token' });
      // NIO publishes no server push API (docs/vendors.md)
      const noChannel = await registerDevice(h.url, other, { platform: 'android', vendor: 'nio', token: 'nio-token' });
      const r = await admin(h.url, other, 'batch', pushBody([none.registrationId, noCert.registrationId, noChannel.registrationId]));
      await eventually(async () => (await losses(r.TaskId)).length === 3);
      const byDevice = new Map((await losses(r.TaskId)).map((l) => [l.registration_id, l.code]));
      assert.deepEqual([byDevice.get(none.registrationId), byDevice.get(noCert.registrationId), byDevice.get(noChannel.registrationId)], [-2, -1, -9]);
    });
  });
}
