import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApnsEmulator, type ApnsApp } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, lossRows, pushBody, registerDevice, startTestHerald, stopWithEmulator, type TestHerald } from './helpers/herald.js';

const BUNDLE = 'com.example.herald';

for (const db of await testDatabases()) {
  describe(`offline push through APNs (${db.name})`, () => {
    let h: TestHerald;
    let emu: ApnsEmulator;
    let app: App;
    let apple: ApnsApp;
    let certId: number;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);
    const iphone = (token: string, extra: Record<string, unknown> = {}) => registerDevice(h.url, app, { platform: 'ios', vendor: 'apns', token, certificateId: certId, ...extra });
    const sent = (token: string) => emu.received.filter((r) => r.token === token);
    const ofTask = (token: string, taskId: string) => sent(token).filter((r) => r.payload.id === taskId);
    const device = (id: string) => h.herald.store.db.selectFrom('devices').select(['token', 'voip_token']).where('registration_id', '=', id).executeTakeFirstOrThrow();
    const token = () => ApnsEmulator.deviceToken();

    before(async () => {
      emu = new ApnsEmulator({ maxConcurrentStreams: 8 });
      await emu.start();
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('apns');
      apple = emu.app(BUNDLE);
      const cert = await call('set_certificate', { Vendor: 'apns', Name: 'ios', Config: { ...apple, production: false, baseUrl: emu.base, caCertificate: emu.caCertificate } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      certId = cert.CertId;
    });
    after(() => stopWithEmulator(h, emu));

    test('an offline iPhone gets the batch push in its language: headers, provider JWT, aps payload and custom keys; an all-users push too', async () => {
      const tok = token();
      const d = await iphone(tok, { locale: 'fr-FR' });
      const t0 = Math.floor(Date.now() / 1000);
      const r = await call(
        'batch',
        pushBody(
          [d.registrationId],
          { Title: 'Sale', Desc: 'today', Ext: '{"page":"sale"}', BadgeSetNum: 3, BadgeAddNum: 5, MultiLanguageContent: [{ Language: 'fr', Title: 'Soldes', Desc: "aujourd'hui" }], ApnsInfo: { Sound: 'ding.caf', SubTitle: 'Paris', InterruptionLevel: 'time-sensitive', MutableContent: 1 } },
          { ExpireTime: 600 },
        ),
      );
      const [m] = await eventually(async () => (sent(tok).length ? sent(tok) : undefined));
      const { authorization, ...headers } = m!.headers;
      const expiration = Number(headers['apns-expiration']);
      assert.ok(expiration >= t0 + 598 && expiration <= t0 + 602, `apns-expiration ${expiration}`);
      assert.deepEqual(
        { ...headers, 'apns-expiration': 'checked' },
        { 'apns-topic': BUNDLE, 'apns-push-type': 'alert', 'apns-priority': '10', 'apns-expiration': 'checked', 'apns-collapse-id': r.TaskId, 'content-type': 'application/json' },
      );
      assert.equal(authorization, `bearer ${m!.jwt.raw}`);
      assert.deepEqual([m!.jwt.kid, m!.jwt.iss], [apple.keyId, apple.teamId]);
      assert.ok(Math.abs(m!.jwt.iat - t0) <= 2);
      // BadgeSetNum wins over BadgeAddNum; Tencent's ApnsInfo has no thread-id or category, so none is sent
      assert.deepEqual(m!.payload, {
        aps: { alert: { title: 'Soldes', subtitle: 'Paris', body: "aujourd'hui" }, badge: 3, sound: 'ding.caf', 'interruption-level': 'time-sensitive', 'mutable-content': 1 },
        id: r.TaskId,
        ext: '{"page":"sale"}',
      });

      // all users: the default text for a language without an entry; an "add" goes to the app's service extension
      const b = await call('push', broadcastBody({}, { BadgeAddNum: 2, ApnsInfo: { Title: 'Hello from APNs' } }));
      const [all] = await eventually(async () => (ofTask(tok, b.TaskId).length ? ofTask(tok, b.TaskId) : undefined));
      assert.deepEqual(all!.payload, { aps: { alert: { title: 'Hello from APNs', body: 'world' }, 'mutable-content': 1 }, id: b.TaskId, badgeAdd: 2 });
      assert.equal(all!.headers['apns-collapse-id'], b.TaskId);
      assert.equal(all!.jwt.raw, m!.jwt.raw, 'the provider token is reused');
    });

    test('VoIP: IsVoipPush goes to the PushKit token with topic .voip; a device without one gets a normal alert; vendor apns-voip registers a VoIP token', async () => {
      const [alertA, voipA, alertB, voipC] = [token(), token(), token(), token()];
      const both = await iphone(alertA, { voipToken: voipA });
      const alertOnly = await iphone(alertB);
      const legacy = await registerDevice(h.url, app, { platform: 'ios', vendor: 'apns-voip', token: voipC, certificateId: certId });
      assert.deepEqual(await device(legacy.registrationId), { token: null, voip_token: voipC });
      assert.deepEqual(await device(both.registrationId), { token: alertA, voip_token: voipA });

      const r = await call('batch', pushBody([both.registrationId, alertOnly.registrationId, legacy.registrationId], { Title: 'Alice', Desc: 'is calling', ApnsInfo: { IsVoipPush: 1 } }));
      await eventually(async () => [voipA, alertB, voipC].every((t) => ofTask(t, r.TaskId).length === 1));
      for (const t of [voipA, voipC]) {
        const [v] = ofTask(t, r.TaskId);
        assert.deepEqual([v!.headers['apns-topic'], v!.headers['apns-push-type'], v!.headers['apns-priority']], [`${BUNDLE}.voip`, 'voip', '10']);
        assert.deepEqual(v!.payload, { aps: { alert: { title: 'Alice', body: 'is calling' } }, id: r.TaskId });
      }
      const [fallback] = ofTask(alertB, r.TaskId);
      assert.deepEqual([fallback!.headers['apns-topic'], fallback!.headers['apns-push-type']], [BUNDLE, 'alert']);
      assert.equal(ofTask(alertA, r.TaskId).length, 0, 'the VoIP push did not also go to the alert token');

      // an ordinary push cannot reach a device that registered only a VoIP token
      const plain = await call('batch', pushBody([legacy.registrationId, both.registrationId]));
      await eventually(async () => ofTask(alertA, plain.TaskId).length === 1 && (await losses(plain.TaskId)).length === 1);
      const [l] = await losses(plain.TaskId);
      assert.deepEqual([l!.registration_id, l!.code], [legacy.registrationId, -2]);
      assert.equal(ofTask(voipA, plain.TaskId).length, 0);
    });

    test('a silent ContentAvailable push goes as background at priority 5 with content-available alone', async () => {
      const tok = token();
      const d = await iphone(tok);
      const r = await call('batch', pushBody([d.registrationId], { Ext: 'sync', BadgeSetNum: 1, ApnsInfo: { ContentAvailable: 1, Sound: 'x.caf' } }));
      const [m] = await eventually(async () => (ofTask(tok, r.TaskId).length ? ofTask(tok, r.TaskId) : undefined));
      assert.deepEqual([m!.headers['apns-push-type'], m!.headers['apns-priority'], m!.headers['apns-topic']], ['background', '5', BUNDLE]);
      assert.deepEqual(m!.payload, { aps: { 'content-available': 1 }, id: r.TaskId, ext: 'sync' });
    });

    test('410 Unregistered clears the token and records the loss; a dead VoIP token clears only the VoIP token', async () => {
      const gone = token();
      const d = await iphone(gone);
      emu.unregister(gone);
      const r = await call('batch', pushBody([d.registrationId]));
      const [l] = await eventually(async () => ((await losses(r.TaskId)).length ? losses(r.TaskId) : undefined));
      assert.deepEqual([l!.code, l!.stage], [410, 'post_send']);
      assert.match(l!.reason, /^apns \(token cleared\): Unregistered \(invalid since \d{4}-/);
      assert.equal((await device(d.registrationId)).token, null);

      const [alert, voip] = [token(), token()];
      const v = await iphone(alert, { voipToken: voip });
      emu.unregister(voip);
      const c = await call('batch', pushBody([v.registrationId], { ApnsInfo: { IsVoipPush: 1 } }));
      const [lv] = await eventually(async () => ((await losses(c.TaskId)).length ? losses(c.TaskId) : undefined));
      assert.match(lv!.reason, /^apns \(token cleared\): VoIP token Unregistered/);
      assert.deepEqual(await device(v.registrationId), { token: alert, voip_token: null });
    });

    test('429 TooManyRequests is retried after Retry-After; 403 ExpiredProviderToken gets a new JWT once; InvalidProviderToken is a loss that stops the certificate', async () => {
      const tok = token();
      const d = await iphone(tok);
      emu.failNext(429, 'TooManyRequests', { 'retry-after': '1' });
      const t0 = Date.now();
      const r = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => ofTask(tok, r.TaskId).length === 1, 8000);
      assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After');
      assert.deepEqual(emu.attempts.filter((a) => a.token === tok).map((a) => [a.status, a.reason]), [[429, 'TooManyRequests'], [200, undefined]]);

      const old = ofTask(tok, r.TaskId)[0]!.jwt.raw;
      emu.failNext(403, 'ExpiredProviderToken');
      const e = await call('batch', pushBody([d.registrationId]));
      const [m] = await eventually(async () => (ofTask(tok, e.TaskId).length ? ofTask(tok, e.TaskId) : undefined));
      assert.notEqual(m!.jwt.raw, old, 'a new provider token');
      const tries = emu.attempts.filter((a) => a.token === tok).slice(-2);
      assert.deepEqual(tries.map((a) => [a.status, a.jwt === old]), [[403, true], [200, false]]);
      // the new token is kept for the next pushes
      const n = await call('batch', pushBody([d.registrationId]));
      const [next] = await eventually(async () => (ofTask(tok, n.TaskId).length ? ofTask(tok, n.TaskId) : undefined));
      assert.equal(next!.jwt.raw, m!.jwt.raw);

      emu.failNext(403, 'InvalidProviderToken');
      const bad = await call('batch', pushBody([d.registrationId]));
      const [l] = await eventually(async () => ((await losses(bad.TaskId)).length ? losses(bad.TaskId) : undefined));
      assert.equal(l!.code, 403);
      assert.match(l!.reason, /^apns \(the certificate was refused and is stopped; token kept\): InvalidProviderToken/);
      assert.equal((await device(d.registrationId)).token, tok, 'a credential error leaves the token');
      // saved again (as an operator fixing it would), the certificate is in use again for the next tests
      const stopped = (await call('get_certificates', { CertId: certId })).Certificates[0];
      assert.deepEqual([stopped.State, stopped.StopErrCode], ['stopped', 403]);
      const saved = await call('set_certificate', { CertId: certId, Vendor: 'apns', Name: 'ios', Config: { ...apple, production: false, baseUrl: emu.base, caCertificate: emu.caCertificate } });
      assert.equal(saved.Certificate.State, 'active');
    });

    test('a long text is cut to fit 4 KB; a payload that cannot fit is a 413 loss', async () => {
      const tok = token();
      const d = await iphone(tok);
      const r = await call('batch', pushBody([d.registrationId], { Title: 'Long', Desc: '长'.repeat(3000) }));
      const [m] = await eventually(async () => (ofTask(tok, r.TaskId).length ? ofTask(tok, r.TaskId) : undefined));
      const body = (m!.payload.aps.alert as { body: string }).body;
      assert.ok(body.endsWith('...') && body.length > 1000, `cut body of ${body.length}`);
      const size = Buffer.byteLength(JSON.stringify(m!.payload));
      assert.ok(size <= 4096 && size > 4090, `payload of ${size} bytes`);

      const big = await call('batch', pushBody([d.registrationId], { Desc: 'x', Ext: 'e'.repeat(4100) }));
      const [l] = await eventually(async () => ((await losses(big.TaskId)).length ? losses(big.TaskId) : undefined));
      assert.equal(l!.code, 413);
      assert.match(l!.reason, /PayloadTooLarge/);
      assert.equal(ofTask(tok, big.TaskId).length, 0);
    });

    test('a recall overwrites the notification: the same apns-collapse-id with the replacement text', async () => {
      const tok = token();
      const d = await iphone(tok);
      const r = await call('batch', pushBody([d.registrationId], { Title: 'Flash sale', Desc: '50% off' }));
      await eventually(async () => ofTask(tok, r.TaskId).length === 1);
      const ok = await call('revoke', { TaskId: r.TaskId, OfflinePushInfo: { PushFlag: 0, Title: 'Sale over', Desc: 'sorry' } });
      assert.equal(ok.ActionStatus, 'OK', JSON.stringify(ok));
      const [first, replacement] = await eventually(async () => (ofTask(tok, r.TaskId).length === 2 ? ofTask(tok, r.TaskId) : undefined));
      assert.equal(replacement!.headers['apns-collapse-id'], first!.headers['apns-collapse-id']);
      assert.deepEqual(replacement!.payload, { aps: { alert: { title: 'Sale over', body: 'sorry' } }, id: r.TaskId });
      assert.equal(replacement!.headers['apns-push-type'], 'alert');
    });

    test('one HTTP/2 session carries many streams at once, within the server\'s SETTINGS', async () => {
      const tokens = Array.from({ length: 24 }, token);
      const ds = [];
      for (const t of tokens) ds.push(await iphone(t));
      emu.resetCounters();
      emu.delayMs = 100;
      try {
        const r = await call('batch', pushBody(ds.map((x) => x.registrationId)));
        await eventually(async () => tokens.every((t) => ofTask(t, r.TaskId).length === 1), 8000);
      } finally {
        emu.delayMs = 0;
      }
      assert.ok(emu.maxConcurrentStreams > 4, `max concurrent streams ${emu.maxConcurrentStreams}`);
      assert.ok(emu.maxStreamsPerSession <= 8, `per session ${emu.maxStreamsPerSession} within SETTINGS_MAX_CONCURRENT_STREAMS 8`);
      assert.equal(emu.maxUnprovenStreams, 1, 'one stream until the first request with a valid token');
    });

    test('apps of other developer accounts and keys push at once: each key has its own connections, as APNs binds one to the first key it takes', async () => {
      // a second app with another team, and a third with a second key of that team
      const other = emu.app('com.example.other');
      const sameTeam = emu.app('com.example.sibling', other.teamId);
      const apps = await Promise.all([
        { key: other, name: 'other' },
        { key: sameTeam, name: 'sibling' },
      ].map(async ({ key, name }) => {
        const a = await h.createApp(name);
        const c = await admin(h.url, a, 'set_certificate', { Vendor: 'apns', Name: 'ios', Config: { ...key, production: false, baseUrl: emu.base, caCertificate: emu.caCertificate } });
        return { a, certId: c.CertId as number };
      }));
      const phones = [{ a: app, certId }, ...apps].map(({ a, certId: id }) => ({ a, id, tokens: [token(), token(), token()] }));
      const devices = await Promise.all(phones.map(async (p) => Promise.all(p.tokens.map((t) => registerDevice(h.url, p.a, { platform: 'ios', vendor: 'apns', token: t, certificateId: p.id })))));
      const refusedBefore = emu.mixedKeyRefusals;
      const tasks = await Promise.all(phones.map((p, i) => admin(h.url, p.a, 'batch', pushBody(devices[i]!.map((d) => d.registrationId)))));
      await eventually(async () => phones.every((p, i) => p.tokens.every((t) => ofTask(t, tasks[i]!.TaskId).length === 1)), 8000);
      assert.equal(emu.mixedKeyRefusals, refusedBefore, 'no request went on a connection bound to another key');
      for (const [i, p] of phones.entries()) {
        const jwts = new Set(p.tokens.map((t) => ofTask(t, tasks[i]!.TaskId)[0]!.jwt.kid));
        assert.equal(jwts.size, 1);
        const cert = (await admin(h.url, p.a, 'get_certificates', { CertId: p.id })).Certificates[0];
        assert.equal(cert.State, 'active');
      }
    });

    test('a token of the other environment is BadDeviceToken: a certificate with the wrong production never clears tokens; a proven one clears a token of the other environment', async () => {
      // the app's builds are development builds (sandbox tokens); its certificate says production
      const dev = await h.createApp('development builds');
      const wrong = await admin(h.url, dev, 'set_certificate', { Vendor: 'apns', Name: 'ios', Config: { ...emu.app(BUNDLE), production: true, baseUrl: emu.productionBase, caCertificate: emu.caCertificate } });
      const toks = [token(), token()];
      const ds = await Promise.all(toks.map((t) => registerDevice(h.url, dev, { platform: 'ios', vendor: 'apns', token: t, certificateId: wrong.CertId })));
      for (let round = 0; round < 2; round++) {
        const r = await admin(h.url, dev, 'batch', pushBody(ds.map((d) => d.registrationId)));
        const lost = await eventually(async () => ((await losses(r.TaskId)).length === 2 ? losses(r.TaskId) : undefined));
        for (const l of lost) {
          assert.equal(l.code, 400);
          assert.match(l.reason, /BadDeviceToken; the token is kept/);
        }
      }
      for (const [i, d] of ds.entries()) assert.equal((await device(d.registrationId)).token, toks[i], 'never cleared');
      const state = (await admin(h.url, dev, 'get_certificates', { CertId: wrong.CertId })).Certificates[0];
      assert.deepEqual([state.State, state.Proven], ['active', false]);
      assert.ok(emu.attempts.some((a) => a.environment === 'production' && a.reason === 'BadDeviceToken'));

      // once the sandbox certificate is proven, a production token (an App Store build's) registered to it is one it can never reach
      const ok = token();
      const sandboxPhone = await iphone(ok);
      const first = await call('batch', pushBody([sandboxPhone.registrationId]));
      await eventually(async () => ofTask(ok, first.TaskId).length === 1);
      await eventually(async () => (await call('get_certificates', { CertId: certId })).Certificates[0].Proven === true);
      const d = await iphone(ApnsEmulator.deviceToken('production'));
      const r = await call('batch', pushBody([d.registrationId]));
      const [l] = await eventually(async () => ((await losses(r.TaskId)).length ? losses(r.TaskId) : undefined));
      assert.match(l!.reason, /^apns \(token cleared\): BadDeviceToken/);
      assert.equal((await device(d.registrationId)).token, null);
    });

    test('after APNs closes the connection with GOAWAY, the next push opens a new session', async () => {
      const tok = token();
      const d = await iphone(tok);
      const r = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => ofTask(tok, r.TaskId).length === 1);
      const opened = emu.sessionsOpened;
      emu.goaway();
      const again = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => ofTask(tok, again.TaskId).length === 1);
      assert.equal(emu.sessionsOpened, opened + 1);
    });
  });
}
