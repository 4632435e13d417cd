import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { genUserSig } from '../src/auth/usersig.js';
import type { App } from '../src/store/index.js';
import { testDatabases, type TestDatabase } from './helpers/dialects.js';
import { admin, deviceCall, pushBody, RawDevice, registerDevice, startTestHerald, type DeviceHandle, type TestHerald } from './helpers/herald.js';

// Herald trusts X-Forwarded-For from loopback here, so one test process can speak from many addresses.
const BEHIND_PROXY = { HERALD_TRUST_PROXY: 'loopback' };
const from = (address: string) => ({ 'x-forwarded-for': address });

const badSig = (app: App) => genUserSig(app.sdkAppId, 'not-the-secret-key', 'administrator');

async function adminFrom(h: TestHerald, app: App, address: string, usersig?: string): Promise<{ code: number; info: string }> {
  const r = await admin(h.url, app, 'batch', pushBody(['alice']), { headers: from(address), ...(usersig ? { usersig } : {}) });
  return { code: r.ErrorCode as number, info: r.ErrorInfo as string };
}

async function codes(n: number, call: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await call());
  return out;
}

async function gatewayAuth(h: TestHerald, app: App, device: DeviceHandle, address: string): Promise<{ code: number; frames: any[] }> {
  const d = await RawDevice.open(h.url, from(address));
  d.send({ t: 'auth', sdkAppId: app.sdkAppId, registrationId: device.registrationId, credential: device.credential });
  await Promise.race([d.waitFor((f) => f.t === 'ready'), d.waitClosed()]);
  const frames = d.frames;
  if (!d.closed) {
    d.close();
    return { code: 0, frames };
  }
  return { code: d.closed.code, frames };
}

async function heraldWithApp(db: TestDatabase, settings: Record<string, string>): Promise<{ h: TestHerald; app: App }> {
  const h = await startTestHerald(db, settings);
  return { h, app: await h.createApp() };
}

const register = (h: TestHerald, app: App, address: string) => deviceCall(h.url, app, 'POST', '/device/v1/register', { installId: `inst-${Math.random().toString(36).slice(2)}`, platform: 'android' }, undefined, from(address));

for (const db of await testDatabases()) {
  describe(`rate limits at the edges (${db.name})`, () => {
    describe('failed admin authentication', () => {
      let h: TestHerald, app: App;
      before(async () => ({ h, app } = await heraldWithApp(db, { ...BEHIND_PROXY, HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_ADDRESS: '3', HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_APP: '5' })));
      after(async () => h.stop());

      test('an address past its bound gets 70050, even with a good UserSig; a good caller elsewhere is not slowed', async () => {
        const attacker = '203.0.113.7';
        assert.deepEqual(await codes(3, async () => (await adminFrom(h, app, attacker, badSig(app))).code), [70009, 70009, 70009]);
        const limited = await adminFrom(h, app, attacker, badSig(app));
        assert.equal(limited.code, 70050);
        assert.match(limited.info, /from this address; retry in \d+ s/);
        // Refused before the UserSig is looked at: a correct guess does not get through either.
        assert.equal((await adminFrom(h, app, attacker)).code, 70050);
        assert.equal((await adminFrom(h, app, '198.51.100.20')).code, 0);
      });

      test('unknown SDKAppIDs count against the address', async () => {
        const prober = '203.0.113.8';
        const unknown = () => admin(h.url, app, 'batch', pushBody(['alice']), { headers: from(prober), sdkappid: '1399999999' }).then((r) => r.ErrorCode as number);
        assert.deepEqual(await codes(4, unknown), [70020, 70020, 70020, 70050]);
      });

      test('an app failing from many addresses refuses every address with a failure on record, not clean ones', async () => {
        const target = await h.createApp('target');
        // Five addresses fail once each: the app's bound (5) is spent, no address's own (3) is.
        for (let i = 1; i <= 5; i++) assert.equal((await adminFrom(h, target, `203.0.113.${100 + i}`, badSig(target))).code, 70009);
        // A new address still gets its one try, and is then refused.
        assert.equal((await adminFrom(h, target, '203.0.113.111', badSig(target))).code, 70009);
        const second = await adminFrom(h, target, '203.0.113.111', badSig(target));
        assert.equal(second.code, 70050);
        assert.match(second.info, /for this SDKAppID from many addresses/);
        assert.equal((await adminFrom(h, target, '203.0.113.101')).code, 70050, 'a good UserSig from an address with a failure on record');
        assert.equal((await adminFrom(h, target, '198.51.100.21')).code, 0, 'a good UserSig from a clean address');
        assert.equal((await adminFrom(h, app, '203.0.113.102')).code, 0, 'another app is not affected');
      });

      test('refusals are counted in /metrics', async () => {
        const text = await (await fetch(`${h.url}/metrics`)).text();
        assert.match(text, /herald_rate_limited_total\{limit="admin_auth"\} [1-9]/);
      });
    });

    describe('X-Forwarded-For without HERALD_TRUST_PROXY', () => {
      let h: TestHerald, app: App;
      before(async () => ({ h, app } = await heraldWithApp(db, { HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_ADDRESS: '2' })));
      after(async () => h.stop());

      test('is ignored: a caller cannot pose as many addresses', async () => {
        let i = 0;
        const spoofed = async () => (await adminFrom(h, app, `203.0.113.${++i}`, badSig(app))).code;
        assert.deepEqual(await codes(3, spoofed), [70009, 70009, 70050]);
      });
    });

    describe('wrong device credentials', () => {
      let h: TestHerald;
      let app: App;
      let device: DeviceHandle;
      before(async () => {
        h = await startTestHerald(db, { ...BEHIND_PROXY, HERALD_LIMIT_DEVICE_AUTH_FAILURES_PER_ADDRESS: '3' });
        app = await h.createApp();
        device = await registerDevice(h.url, app);
      });
      after(async () => h.stop());

      test('the device API answers 429 with Retry-After past the bound; the device itself, elsewhere, is served', async () => {
        const wrong = { ...device, credential: 'not-the-credential' };
        const click = (address: string, d: DeviceHandle) => deviceCall(h.url, app, 'POST', '/device/v1/click', { messageId: 'm1' }, d, from(address));
        assert.deepEqual(await codes(3, async () => (await click('203.0.113.30', wrong)).status), [401, 401, 401]);
        const res = await fetch(`${h.url}/device/v1/click`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-herald-sdkappid': String(app.sdkAppId), 'x-herald-appkey': app.appKey, 'x-herald-registration-id': device.registrationId, authorization: `Bearer ${device.credential}`, ...from('203.0.113.30') },
          body: JSON.stringify({ messageId: 'm1' }),
        });
        assert.equal(res.status, 429);
        assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'rate_limited');
        assert.equal((await click('198.51.100.30', device)).status, 200);
      });

      test('a wrong appKey counts too', async () => {
        const wrongKey = { ...app, appKey: 'not-the-app-key' };
        const call = async () => (await deviceCall(h.url, wrongKey, 'POST', '/device/v1/register', { installId: 'inst-wrong-key', platform: 'android' }, undefined, from('203.0.113.31'))).status;
        assert.deepEqual(await codes(4, call), [401, 401, 401, 429]);
      });

      test('the gateway refuses auth with 4429 past the bound, and lets the device in from another address', async () => {
        const wrong = { ...device, credential: 'not-the-credential' };
        const attempts = [];
        for (let i = 0; i < 3; i++) attempts.push((await gatewayAuth(h, app, wrong, '203.0.113.32')).code);
        assert.deepEqual(attempts, [4401, 4401, 4401]);
        const limited = await gatewayAuth(h, app, device, '203.0.113.32');
        assert.equal(limited.code, 4429);
        assert.equal(limited.frames.find((f) => f.t === 'error')?.code, 'rate_limited');
        assert.equal((await gatewayAuth(h, app, device, '198.51.100.32')).code, 0);
      });

      test('failures on the device API and the gateway share one bound', async () => {
        const wrong = { ...device, credential: 'not-the-credential' };
        for (let i = 0; i < 3; i++) await deviceCall(h.url, app, 'PATCH', '/device/v1/device', { locale: 'en' }, wrong, from('203.0.113.33'));
        assert.equal((await gatewayAuth(h, app, wrong, '203.0.113.33')).code, 4429);
      });
    });

    describe('registrations', () => {
      let h: TestHerald, app: App;
      before(async () => ({ h, app } = await heraldWithApp(db, { ...BEHIND_PROXY, HERALD_LIMIT_REGISTRATIONS_PER_ADDRESS: '3', HERALD_LIMIT_REGISTRATIONS_PER_APP: '5' })));
      after(async () => h.stop());

      test('past the bound per address, then per app, register answers 429 with Retry-After', async () => {
        assert.deepEqual(await codes(4, async () => (await register(h, app, '203.0.113.40')).status), [200, 200, 200, 429]);
        const own = await register(h, app, '203.0.113.40');
        assert.equal(own.body.error.code, 'rate_limited');
        assert.match(own.body.error.message, /from this address/);
        assert.deepEqual(await codes(3, async () => (await register(h, app, '203.0.113.41')).status), [200, 200, 429]);
        const app429 = await fetch(`${h.url}/device/v1/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-herald-sdkappid': String(app.sdkAppId), 'x-herald-appkey': app.appKey, ...from('203.0.113.42') },
          body: JSON.stringify({ installId: 'inst-app-bound', platform: 'android' }),
        });
        assert.equal(app429.status, 429);
        assert.match(app429.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
        assert.match(((await app429.json()) as any).error.message, /for this app/);
      });
    });

    describe('limits on by default, off with 0', () => {
      const off = {
        HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_ADDRESS: '0',
        HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_APP: '0',
        HERALD_LIMIT_DEVICE_AUTH_FAILURES_PER_ADDRESS: '0',
        HERALD_LIMIT_DEVICE_AUTH_FAILURES_PER_APP: '0',
        HERALD_LIMIT_REGISTRATIONS_PER_ADDRESS: '0',
        HERALD_LIMIT_REGISTRATIONS_PER_APP: '0',
      };

      /**
       * Which kinds were limited, going some way past each default bound (30, 60 and 120 a minute
       * from one address; the margin covers what refills while the calls are made).
       */
      async function limitedPastDefaults(settings: Record<string, string>): Promise<{ admin: boolean; device: boolean; register: boolean }> {
        const { h, app } = await heraldWithApp(db, settings);
        try {
          const adminCodes = await codes(40, async () => (await admin(h.url, app, 'batch', pushBody(['alice']), { usersig: badSig(app) })).ErrorCode);
          // Registrations before the wrong credentials: past that bound, every device call from the address is refused.
          const device = await registerDevice(h.url, app);
          const registerCodes = await codes(140, async () => (await register(h, app, '127.0.0.1')).status);
          const wrong = { ...device, credential: 'not-the-credential' };
          const deviceCodes = await codes(70, async () => (await deviceCall(h.url, app, 'POST', '/device/v1/click', { messageId: 'm' }, wrong)).status);
          // Within the bounds, every call got its own answer.
          assert.deepEqual(new Set([...adminCodes.slice(0, 30), ...deviceCodes.slice(0, 60), ...registerCodes.slice(0, 119)]), new Set([70009, 401, 200]));
          return { admin: adminCodes.includes(70050), device: deviceCodes.includes(429), register: registerCodes.includes(429) };
        } finally {
          await h.stop();
        }
      }

      test('the defaults bound each kind; 0 turns each off', async () => {
        assert.deepEqual(await limitedPastDefaults({}), { admin: true, device: true, register: true });
        assert.deepEqual(await limitedPastDefaults(off), { admin: false, device: false, register: false });
      });
    });
  });

  describe(`/metrics access (${db.name})`, () => {
    let h: TestHerald;
    const token = 'metrics-token-0123456789';
    before(async () => {
      h = await startTestHerald(db, { HERALD_METRICS_TOKEN: token });
    });
    after(async () => h.stop());

    test('with HERALD_METRICS_TOKEN: refused without the token or with a wrong one, answered with it', async () => {
      const none = await fetch(`${h.url}/metrics`);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
      const ok = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /herald_gateway_connections/);
      // Health stays open for load balancers and orchestrators.
      assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${h.url}/readyz`)).status, 200);
    });
  });

  describe(`/metrics without a token (${db.name})`, () => {
    let h: TestHerald;
    before(async () => {
      h = await startTestHerald(db);
    });
    after(async () => h.stop());

    test('answers a direct loopback request, and refuses one forwarded by a proxy', async () => {
      assert.equal((await fetch(`${h.url}/metrics`)).status, 200);
      const forwarded = await fetch(`${h.url}/metrics`, { headers: from('203.0.113.50') });
      assert.equal(forwarded.status, 403);
      assert.match(((await forwarded.json()) as any).error.message, /HERALD_METRICS_TOKEN/);
    });
  });
}
