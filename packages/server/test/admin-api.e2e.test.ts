import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';
import { genUserSig } from '../src/auth/usersig.js';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, pushBody, registerDevice, RawDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

const require = createRequire(import.meta.url);
const TLSSigAPIv2 = require('tls-sig-api-v2') as { Api: new (sdkAppId: number, key: string) => { genUserSig(id: string, expire: number): string } };

for (const db of await testDatabases()) {
  describe(`admin REST API (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let other: App;
    before(async () => {
      h = await startTestHerald(db);
      app = await h.createApp('a');
      other = await h.createApp('b');
      const d = await registerDevice(h.url, app);
      await fetch(`${h.url}/device/v1/bind`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-herald-sdkappid': String(app.sdkAppId), 'x-herald-appkey': app.appKey, 'x-herald-registration-id': d.registrationId, authorization: `Bearer ${d.credential}` },
        body: JSON.stringify({ userId: 'alice' }),
      });
    });
    after(async () => h.stop());

    test("accepts a UserSig made by Tencent's tls-sig-api-v2 and answers in Tencent's envelope", async () => {
      const usersig = new TLSSigAPIv2.Api(app.sdkAppId, app.secretKey).genUserSig('administrator', 86400);
      const r = await admin(h.url, app, 'batch', pushBody(['alice']), { usersig });
      assert.equal(r.ActionStatus, 'OK');
      assert.equal(r.ErrorCode, 0);
      assert.equal(r.ErrorInfo, '');
      assert.match(r.TaskId, /^batch_[0-9a-f]+_[0-9a-f]+_[0-9a-f]+_[0-9a-f]+_[0-9a-f]+$/);
      assert.equal(r.ErrorList, undefined);
    });

    test('lists accounts without devices in ErrorList with 70107', async () => {
      const r = await admin(h.url, app, 'batch', pushBody(['alice', 'nobody']));
      assert.equal(r.ActionStatus, 'OK');
      assert.deepEqual(r.ErrorList.map((e: any) => [e.To_Account, e.ErrorCode]), [['nobody', 70107]]);
    });

    const codes: Array<[string, number, () => Promise<Record<string, any>>]> = [
      ['UserSig expired', 70001, () => admin(h.url, app, 'batch', pushBody(['alice']), { usersig: genUserSig(app.sdkAppId, app.secretKey, 'administrator', 10, Date.now() - 60_000) })],
      ['UserSig unparsable', 70003, () => admin(h.url, app, 'batch', pushBody(['alice']), { usersig: 'garbage' })],
      ['UserSig with the wrong key', 70009, () => admin(h.url, app, 'batch', pushBody(['alice']), { usersig: genUserSig(app.sdkAppId, other.secretKey, 'administrator') })],
      ['identifier differs from the UserSig', 70013, () => admin(h.url, app, 'batch', pushBody(['alice']), { identifier: 'administrator', usersig: genUserSig(app.sdkAppId, app.secretKey, 'bob') })],
      ["another app's UserSig", 70014, () => admin(h.url, app, 'batch', pushBody(['alice']), { usersig: genUserSig(other.sdkAppId, other.secretKey, 'administrator') })],
      ['sdkappid missing', 60012, () => admin(h.url, app, 'batch', pushBody(['alice']), { sdkappid: '\u0000' })],
      ['sdkappid unknown', 70020, () => admin(h.url, app, 'batch', pushBody(['alice']), { sdkappid: '1399999999' })],
      ['sdkappid not a number', 60006, () => admin(h.url, app, 'batch', pushBody(['alice']), { sdkappid: 'abc' })],
      ['identifier not an admin', 90009, () => admin(h.url, app, 'batch', pushBody(['alice']), { identifier: 'bob' })],
      ['body not JSON', 90001, () => admin(h.url, app, 'batch', null, { rawBody: '{"From_Account":' })],
      ['body JSON but not an object', 90001, () => admin(h.url, app, 'batch', null, { rawBody: '[1,2]' })],
      ['field of the wrong type', 90001, () => admin(h.url, app, 'batch', pushBody(['alice'], { PushFlag: 'yes' }))],
      ['MsgRandom missing', 90005, () => admin(h.url, app, 'batch', { ...pushBody(['alice']), MsgRandom: undefined })],
      ['MsgRandom not an integer', 90005, () => admin(h.url, app, 'batch', { ...pushBody(['alice']), MsgRandom: 1.5 })],
      ['more than 500 accounts', 90018, () => admin(h.url, app, 'batch', pushBody(Array.from({ length: 501 }, (_, i) => `u${i}`)))],
      ['DataId over 64 bytes', 90057, () => admin(h.url, app, 'batch', pushBody(['alice'], {}, { DataId: 'x'.repeat(65) }))],
      ['push body over 10 KB', 90056, () => admin(h.url, app, 'batch', pushBody(['alice'], { Desc: 'x'.repeat(11 * 1024) }))],
      ['request over the HTTP body limit', 90056, () => admin(h.url, app, 'batch', null, { rawBody: JSON.stringify({ pad: 'x'.repeat(1100 * 1024) }) })],
      ['unknown command', 60009, () => admin(h.url, app, 'no_such_command', {})],
      ['random not a number', 60002, () => admin(h.url, app, 'batch', pushBody(['alice']), { query: { random: 'abc' } })],
    ];
    for (const [what, code, call] of codes) {
      test(`${what} → ${code}`, async () => {
        const r = await call();
        assert.equal(r.ActionStatus, 'FAIL', JSON.stringify(r));
        assert.equal(r.ErrorCode, code, JSON.stringify(r));
        assert.ok(typeof r.ErrorInfo === 'string' && r.ErrorInfo.length > 0);
      });
    }

    test('a repeated MsgRandom returns the first TaskId and sends nothing twice', async () => {
      const d = await registerDevice(h.url, app);
      const dev = await RawDevice.connect(h.url, app, d);
      const body = pushBody([d.registrationId]);
      const [a, b] = await Promise.all([admin(h.url, app, 'batch', body), admin(h.url, app, 'batch', body)]);
      const c = await admin(h.url, app, 'batch', body);
      assert.equal(a.TaskId, b.TaskId);
      assert.equal(a.TaskId, c.TaskId);
      await dev.waitFor((f) => f.t === 'msg');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(dev.msgs().length, 1);
      // the same MsgRandom in another app is another task
      const o = await admin(h.url, other, 'batch', body);
      assert.notEqual(o.TaskId, a.TaskId);
      dev.close();
    });

    test("app A's UserSig cannot push to app B's devices", async () => {
      const d = await registerDevice(h.url, other);
      const dev = await RawDevice.connect(h.url, other, d);
      // signed by A for A, but naming B's SDKAppID in the query
      const r = await admin(h.url, other, 'batch', pushBody([d.registrationId]), { usersig: genUserSig(app.sdkAppId, app.secretKey, 'administrator') });
      assert.equal(r.ErrorCode, 70014);
      // A pushing to B's RegistrationID reaches nobody: the account does not exist in A
      const r2 = await admin(h.url, app, 'batch', pushBody([d.registrationId]));
      assert.equal(r2.ActionStatus, 'OK');
      assert.deepEqual(r2.ErrorList.map((e: any) => e.ErrorCode), [70107]);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(dev.msgs().length, 0);
      dev.close();
    });

    test('/metrics counts admin calls by command and code, and live gateway sessions; /readyz answers', async () => {
      const d = await registerDevice(h.url, app);
      const dev = await RawDevice.connect(h.url, app, d);
      await admin(h.url, app, 'batch', pushBody(['alice']), { usersig: 'garbage' });
      await admin(h.url, app, 'batch', pushBody(['alice']));
      const text = await (await fetch(`${h.url}/metrics`)).text();
      assert.match(text, /herald_admin_requests_total\{command="batch",code="0"\} [1-9]/);
      assert.match(text, /herald_admin_requests_total\{command="batch",code="70003"\} [1-9]/);
      assert.match(text, /herald_gateway_devices_online [1-9]/);
      assert.equal((await fetch(`${h.url}/readyz`)).status, 200);
      dev.close();
    });

    test('the server keeps serving after bad requests', async () => {
      const r = await admin(h.url, app, 'batch', pushBody(['alice']));
      assert.equal(r.ActionStatus, 'OK');
      const health = await fetch(`${h.url}/healthz`);
      assert.equal(health.status, 200);
    });
  });
}
