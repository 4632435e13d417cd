import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { devices } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { deviceCall, registerDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

for (const db of await testDatabases()) {
  describe(`device API (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let other: App;
    before(async () => {
      h = await startTestHerald(db);
      app = await h.createApp('a');
      other = await h.createApp('b');
    });
    after(async () => h.stop());
    const row = (a: App, id: string) => devices.findDevice(h.herald.store.db, a.sdkAppId, id);

    test('register stores every reported field and returns a RegistrationID and credential', async () => {
      const r = await deviceCall(h.url, app, 'POST', '/device/v1/register', {
        installId: 'install-0001', platform: 'android', vendor: 'huawei', token: 'tok-1', certificateId: 12345,
        locale: 'zh-Hant-TW', timeZone: 'Asia/Taipei', appVersion: '3.2.0', sdkVersion: 'herald-js/0.1.0',
        deviceModel: 'P60', osVersion: '14', notificationPermission: 'granted',
      });
      assert.equal(r.status, 200);
      assert.match(r.body.registrationId, /^r_[0-9a-f]{32}$/);
      assert.ok(r.body.credential.length >= 40);
      assert.equal(r.body.gatewayPath, '/gateway/v1');
      const d = await row(app, r.body.registrationId);
      assert.deepEqual(
        [d?.platform, d?.vendor, d?.token, d?.certificate_id, d?.locale, d?.time_zone, d?.app_version, d?.device_model, d?.os_version, d?.notification_permission],
        ['android', 'huawei', 'tok-1', 12345, 'zh-Hant-TW', 'Asia/Taipei', '3.2.0', 'P60', '14', 'granted'],
      );
      assert.notEqual(d?.credential_hash, r.body.credential, 'the credential is stored hashed');
    });

    test('re-registering the same install keeps the RegistrationID and user, and retires the old credential', async () => {
      const first = await registerDevice(h.url, app, { installId: 'install-keep-1' });
      assert.equal((await deviceCall(h.url, app, 'POST', '/device/v1/bind', { userId: 'dora' }, first)).status, 200);
      const second = await registerDevice(h.url, app, { installId: 'install-keep-1', token: 'new' });
      assert.equal(second.registrationId, first.registrationId);
      assert.notEqual(second.credential, first.credential);
      assert.equal((await row(app, first.registrationId))?.user_id, 'dora');
      assert.equal((await deviceCall(h.url, app, 'POST', '/device/v1/unbind', {}, first)).status, 401);
      assert.equal((await deviceCall(h.url, app, 'POST', '/device/v1/unbind', {}, second)).status, 200);
      assert.equal((await row(app, first.registrationId))?.user_id, null);
    });

    test('a custom RegistrationID is honoured, and refused when another install holds it', async () => {
      const a = await registerDevice(h.url, app, { installId: 'install-custom-a', registrationId: 'my-device-1' });
      assert.equal(a.registrationId, 'my-device-1');
      const b = await deviceCall(h.url, app, 'POST', '/device/v1/register', { installId: 'install-custom-b', platform: 'ios', registrationId: 'my-device-1' });
      assert.equal(b.status, 409);
      assert.equal(b.body.error.code, 'registration_id_taken');
      // the same id in another app is another device
      const c = await registerDevice(h.url, other, { installId: 'install-custom-b', registrationId: 'my-device-1' });
      assert.equal(c.registrationId, 'my-device-1');
    });

    test('update changes only the fields sent; null clears the token', async () => {
      const d = await registerDevice(h.url, app, { token: 'abc', vendor: 'fcm', locale: 'en' });
      assert.equal((await deviceCall(h.url, app, 'PATCH', '/device/v1/device', { locale: 'fr-FR', notificationPermission: 'denied' }, d)).status, 200);
      let r = await row(app, d.registrationId);
      assert.deepEqual([r?.locale, r?.notification_permission, r?.token, r?.vendor], ['fr-FR', 'denied', 'abc', 'fcm']);
      assert.equal((await deviceCall(h.url, app, 'PATCH', '/device/v1/device', { token: null }, d)).status, 200);
      r = await row(app, d.registrationId);
      assert.equal(r?.token, null);
    });

    test('one user, many devices; binding again moves a device to the new user', async () => {
      const a = await registerDevice(h.url, app);
      const b = await registerDevice(h.url, app);
      for (const d of [a, b]) await deviceCall(h.url, app, 'POST', '/device/v1/bind', { userId: 'erin' }, d);
      const targets = await devices.findTargets(h.herald.store.db, app.sdkAppId, ['erin']);
      assert.deepEqual(targets.map((t) => t.registration_id).sort(), [a.registrationId, b.registrationId].sort());
      await deviceCall(h.url, app, 'POST', '/device/v1/bind', { userId: 'frank' }, b);
      assert.equal((await row(app, b.registrationId))?.user_id, 'frank');
    });

    test('unregister removes the device and its credential stops working', async () => {
      const d = await registerDevice(h.url, app);
      assert.equal((await deviceCall(h.url, app, 'DELETE', '/device/v1/device', undefined, d)).status, 200);
      assert.equal(await row(app, d.registrationId), undefined);
      const again = await deviceCall(h.url, app, 'PATCH', '/device/v1/device', { locale: 'en' }, d);
      assert.equal(again.status, 401);
      assert.equal(again.body.error.code, 'invalid_credential');
    });

    test('a click is stored', async () => {
      const d = await registerDevice(h.url, app);
      assert.equal((await deviceCall(h.url, app, 'POST', '/device/v1/click', { messageId: 'batch_x' }, d)).status, 200);
      await h.herald.flush();
      const c = await h.herald.store.db.selectFrom('clicks').selectAll().where('registration_id', '=', d.registrationId).execute();
      assert.deepEqual(c.map((x) => [x.app_id, x.task_id]), [[app.sdkAppId, 'batch_x']]);
    });

    const bad: Array<[string, () => Promise<{ status: number; body: any }>, number, string]> = [
      ['malformed JSON', () => deviceCall(h.url, app, 'POST', '/device/v1/register', '{"installId":'), 400, 'invalid_json'],
      ['missing installId', () => deviceCall(h.url, app, 'POST', '/device/v1/register', { platform: 'ios' }), 400, 'invalid_request'],
      ['unknown platform', () => deviceCall(h.url, app, 'POST', '/device/v1/register', { installId: 'install-xx-1', platform: 'nokia' }), 400, 'invalid_request'],
      ['wrong type', () => deviceCall(h.url, app, 'POST', '/device/v1/register', { installId: 'install-xx-1', platform: 'ios', certificateId: 'one' }), 400, 'invalid_request'],
      ['oversized body', () => deviceCall(h.url, app, 'POST', '/device/v1/register', { installId: 'install-xx-1', platform: 'ios', token: 'x'.repeat(20_000) }), 413, 'body_too_large'],
      ['wrong appKey', () => deviceCall(h.url, app, 'POST', '/device/v1/register', { installId: 'install-xx-1', platform: 'ios' }, undefined, { 'x-herald-appkey': other.appKey }), 401, 'invalid_app'],
      ['missing SDKAppID header', () => deviceCall(h.url, app, 'POST', '/device/v1/register', { installId: 'install-xx-1', platform: 'ios' }, undefined, { 'x-herald-sdkappid': '' }), 400, 'invalid_request'],
    ];
    for (const [what, call, status, code] of bad) {
      test(`${what} → ${status} ${code}`, async () => {
        const r = await call();
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.equal(r.body.error.code, code);
        assert.ok(r.body.error.message.length > 0);
      });
    }

    test("app B's appKey cannot act on app A's device, even with the device's credential", async () => {
      const d = await registerDevice(h.url, app);
      const asB = await deviceCall(h.url, other, 'POST', '/device/v1/bind', { userId: 'mallory' }, d);
      assert.equal(asB.status, 401);
      const del = await deviceCall(h.url, other, 'DELETE', '/device/v1/device', undefined, d);
      assert.equal(del.status, 401);
      assert.equal((await row(app, d.registrationId))?.user_id, null);
      // and a device's credential opens only that device
      const e = await registerDevice(h.url, app);
      const swapped = await deviceCall(h.url, app, 'POST', '/device/v1/bind', { userId: 'mallory' }, { registrationId: e.registrationId, credential: d.credential });
      assert.equal(swapped.status, 401);
    });
  });
}
