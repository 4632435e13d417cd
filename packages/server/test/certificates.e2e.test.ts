import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, deviceCall, registerDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

const p8 = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const apnsConfig = (key: string) => ({ keyId: 'ABC123DEFG', teamId: 'TEAM123456', bundleId: 'com.example.app', privateKey: key, production: false });

for (const db of await testDatabases()) {
  describe(`certificates (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    const call = (command: string, body: unknown, a = app) => admin(h.url, a, command, body);
    const stored = async (certId: number) => JSON.parse((await h.herald.store.db.selectFrom('certificates').select('config').where('app_id', '=', app.sdkAppId).where('cert_id', '=', certId).executeTakeFirstOrThrow()).config);
    before(async () => {
      h = await startTestHerald(db, { HERALD_PUBLIC_URL: 'https://push.example.com/' });
      app = await h.createApp('certs');
    });
    after(async () => h.stop());

    test('an APNs certificate: stored whole, shown masked, updated without resending the key', async () => {
      const key = p8();
      const r = await call('set_certificate', { Vendor: 'apns', Name: 'iOS prod', Config: apnsConfig(key) });
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      assert.equal(r.CertId, 1);
      assert.equal(r.Certificate.Config.privateKey, '****', 'a PEM key shows nothing of itself');
      assert.equal((await stored(1)).privateKey, key);
      const listed = await call('get_certificates', {});
      assert.deepEqual(listed.Certificates.map((c: any) => [c.CertId, c.Vendor, c.Name, c.Config.keyId]), [[1, 'apns', 'iOS prod', 'ABC123DEFG']]);
      assert.ok(!JSON.stringify(listed).includes('PRIVATE KEY'));
      // vendors post receipts to the public URL, signed per certificate
      assert.match(listed.Certificates[0].ReceiptUrl, new RegExp(`^https://push\\.example\\.com/v1/receipts/apns/${app.sdkAppId}/1/[\\w-]{22}$`));
      // a console sends back what it was shown: the masked key keeps the stored one
      const renamed = await call('set_certificate', { CertId: 1, Vendor: 'apns', Name: 'iOS', Config: { ...apnsConfig('****'), production: true } });
      assert.equal(renamed.ActionStatus, 'OK', JSON.stringify(renamed));
      assert.deepEqual([(await stored(1)).privateKey, (await stored(1)).production], [key, true]);
    });

    test('each vendor is checked field by field; secrets masked to their last four characters', async () => {
      const oppo = await call('set_certificate', { Vendor: 'oppo', Name: 'oppo', Config: { appKey: 'ak', masterSecret: 'ms-1234567890abcd' } });
      assert.equal(oppo.Certificate.Config.masterSecret, '****abcd');
      const fcm = await call('set_certificate', { Vendor: 'fcm', Name: 'fcm', Config: { serviceAccount: { type: 'service_account', project_id: 'p1', client_email: 'x@p1.iam.gserviceaccount.com', private_key: p8(), private_key_id: 'k123456789' } } });
      assert.equal(fcm.ActionStatus, 'OK', JSON.stringify(fcm));
      assert.deepEqual([fcm.Certificate.Config.serviceAccount.private_key, fcm.Certificate.Config.serviceAccount.private_key_id], ['****', '****6789']);
      const bad = await call('set_certificate', { Vendor: 'vivo', Name: 'vivo', Config: { appId: '1', appKey: 'k' } });
      assert.deepEqual([bad.ErrorCode, bad.ErrorInfo], [90001, 'Config.appSecret: Invalid input: expected string, received undefined']);
      assert.equal((await call('set_certificate', { Vendor: 'apns', Name: 'x', Config: { ...apnsConfig('not a key') } })).ErrorCode, 90001);
      assert.equal((await call('set_certificate', { Vendor: 'xiaomi', Name: 'x', Config: { appSecret: 's', packageName: 'p', extra: 1 } })).ErrorCode, 90001, 'unknown fields are refused');
      assert.equal((await call('set_certificate', { Vendor: 'nokia', Name: 'x', Config: {} })).ErrorCode, 90001);
      assert.equal((await call('set_certificate', { CertId: 99, Vendor: 'oppo', Name: 'x', Config: {} })).ErrorCode, 90091);
      assert.equal((await call('set_certificate', { CertId: oppo.CertId, Vendor: 'vivo', Name: 'x', Config: { appId: '1', appKey: 'k', appSecret: 's' } })).ErrorCode, 90001, 'a certificate keeps its vendor');
    });

    test('Web Push: Herald makes the VAPID key pair; the public key is shown, the private one is not', async () => {
      const r = await call('set_certificate', { Vendor: 'webpush', Name: 'site', Config: { subject: 'mailto:ops@example.com' } });
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      const pub = Buffer.from(r.Certificate.Config.publicKey, 'base64url');
      assert.deepEqual([pub.length, pub[0]], [65, 4], 'an uncompressed P-256 point');
      assert.match(r.Certificate.Config.privateKey, /^\*\*\*\*.{4}$/);
      assert.equal(Buffer.from((await stored(r.CertId)).privateKey, 'base64url').length, 32);
      assert.equal((await call('set_certificate', { Vendor: 'webpush', Name: 'x', Config: { subject: 'ops@example.com' } })).ErrorCode, 90001);
    });

    test('delete, and apps are walls', async () => {
      const other = await h.createApp('other');
      const mine = await call('set_certificate', { Vendor: 'meizu', Name: 'mz', Config: { appId: '1', appSecret: 'secret-xyz1' } });
      assert.equal((await call('get_certificates', { CertId: mine.CertId }, other)).ErrorCode, 90091);
      assert.equal((await call('delete_certificate', { CertId: mine.CertId }, other)).ErrorCode, 90091);
      assert.deepEqual((await call('get_certificates', {}, other)).Certificates, []);
      assert.equal((await call('delete_certificate', { CertId: mine.CertId })).ActionStatus, 'OK');
      assert.equal((await call('get_certificates', { CertId: mine.CertId })).ErrorCode, 90091);
    });

    test('a device registers its vendor token with its certificate id; a Web Push token is a checked subscription', async () => {
      const sub = { endpoint: 'https://push.example.com/send/abc', keys: { p256dh: Buffer.concat([Buffer.from([4]), crypto.randomBytes(64)]).toString('base64url'), auth: crypto.randomBytes(16).toString('base64url') } };
      const d = await registerDevice(h.url, app, { platform: 'web', vendor: 'webpush', token: JSON.stringify(sub), certificateId: 3 });
      const row = await h.herald.store.db.selectFrom('devices').select(['vendor', 'token', 'certificate_id']).where('registration_id', '=', d.registrationId).executeTakeFirstOrThrow();
      assert.deepEqual([row.vendor, JSON.parse(row.token!), row.certificate_id], ['webpush', sub, 3]);
      const bad = await deviceCall(h.url, app, 'PATCH', '/device/v1/device', { vendor: 'webpush', token: JSON.stringify({ ...sub, keys: { ...sub.keys, auth: 'x' } }) }, d);
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /keys\.auth/);
      assert.equal((await deviceCall(h.url, app, 'PATCH', '/device/v1/device', { vendor: 'webpush', token: 'not json' }, d)).status, 400);
      // a new token replaces the old one
      assert.equal((await deviceCall(h.url, app, 'PATCH', '/device/v1/device', { vendor: 'fcm', token: 'fcm-token-2', certificateId: 2 }, d)).status, 200);
      const after = await h.herald.store.db.selectFrom('devices').select(['vendor', 'token', 'certificate_id']).where('registration_id', '=', d.registrationId).executeTakeFirstOrThrow();
      assert.deepEqual([after.vendor, after.token, after.certificate_id], ['fcm', 'fcm-token-2', 2]);
    });
  });
}
