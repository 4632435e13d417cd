import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, adminPath, broadcastBody, deviceCall, makeDevice, pushBody, startTestHerald, type DeviceHandle, type TestHerald } from './helpers/herald.js';
import { sendThenRead } from './helpers/raw-http.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const at = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const apnsConfig = { keyId: 'ABC123DEFG', teamId: 'TEAM123456', bundleId: 'com.example.app', privateKey: crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), production: false };

/** JSON text of an array nested `depth` deep. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

for (const db of await testDatabases()) {
  describe(`bad input (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let device: DeviceHandle;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const appHeaders = () => ({ 'content-type': 'application/json', 'x-herald-sdkappid': String(app.sdkAppId), 'x-herald-appkey': app.appKey });
    before(async () => {
      h = await startTestHerald(db);
      app = await h.createApp('bad-input');
      device = await makeDevice(h.url, app, { user: 'alice' });
      assert.equal((await call('set_attr_name', { AttrNames: { '0': 'city' } })).ErrorCode, 0);
    });
    after(async () => h.stop());

    test('a NUL or a lone surrogate in any text of an admin body is 90001 naming the field, on both dialects alike', async () => {
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ['add_tag', { UserTags: [{ To_Account: 'alice', Tags: ['a\u0000b'] }] }, /^UserTags\.0\.Tags\.0: text must not contain U\+0000/],
        ['push', broadcastBody({}, { Title: 'a\u0000b' }), /^OfflinePushInfo\.Title: text must not contain U\+0000/],
        ['batch', pushBody(['a\u0000b']), /^To_Account\.0: text must not contain U\+0000/],
        ['get_push_records', { Search: 'a\u0000b' }, /^Search: text must not contain U\+0000/],
        ['set_attr', { UserAttrs: [{ To_Account: 'alice', Attrs: { city: 'Par\ud800is' } }] }, /^UserAttrs\.0\.Attrs\.city: text must be well-formed Unicode/],
        ['add_tag', { UserTags: [{ To_Account: 'alice', Tags: ['\udc00'] }] }, /^UserTags\.0\.Tags\.0: text must be well-formed Unicode/],
        ['set_attr_name', { AttrNames: { '1\u0000': 'x' } }, /^AttrNames: a key: text must not contain U\+0000/],
      ];
      for (const [command, body, info] of cases) {
        const r = await call(command, body);
        assert.deepEqual([r.ErrorCode, r.ActionStatus], [90001, 'FAIL'], `${command}: ${JSON.stringify(r)}`);
        assert.match(r.ErrorInfo, info, command);
      }
      // nothing of it was stored, and the same calls with clean text still work
      assert.deepEqual((await call('get_tag', { To_Account: ['alice'] })).UserTags, [{ To_Account: 'alice', Tags: [] }]);
      assert.equal((await call('add_tag', { UserTags: [{ To_Account: 'alice', Tags: ['a😀b'] }] })).ErrorCode, 0);
    });

    test('a NUL in the query string is 60002 naming the parameter', async () => {
      const r = await admin(h.url, app, 'get_tag', { To_Account: ['alice'] }, { identifier: 'admin\u0000istrator' });
      assert.equal(r.ErrorCode, 60002, JSON.stringify(r));
      assert.match(r.ErrorInfo, /^query string: identifier: text must not contain U\+0000/);
    });

    test('a NUL or a lone surrogate in a device API body is 400 invalid_request naming the field', async () => {
      const cases: Array<[string, string, Record<string, unknown>, DeviceHandle | undefined, RegExp]> = [
        ['POST', '/device/v1/register', { installId: 'install-nul-1', platform: 'android', deviceModel: 'a\u0000b' }, undefined, /^deviceModel: text must not contain U\+0000/],
        ['POST', '/device/v1/register', { installId: 'install-nul-2', platform: 'ios', appVersion: '1.\ud800' }, undefined, /^appVersion: text must be well-formed Unicode/],
        ['PATCH', '/device/v1/device', { osVersion: '17\u0000' }, device, /^osVersion: text must not contain U\+0000/],
        ['POST', '/device/v1/bind', { userId: 'bob\u0000' }, device, /^userId: text must not contain U\+0000/],
        ['POST', '/device/v1/mute', { type: 'c2c', id: '\udfff' }, device, /^id: text must be well-formed Unicode/],
      ];
      for (const [method, path, body, d, message] of cases) {
        const r = await deviceCall(h.url, app, method, path, body, d);
        assert.deepEqual([r.status, r.body?.error?.code], [400, 'invalid_request'], `${method} ${path}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.error.message, message, path);
      }
      assert.equal((await deviceCall(h.url, app, 'POST', '/device/v1/register', { installId: 'install-nul-3', platform: 'android', deviceModel: 'Pixel 😀' })).status, 200);
    });

    test('set_attr naming an account twice takes the last value', async () => {
      const r = await call('set_attr', { UserAttrs: [{ To_Account: 'alice', Attrs: { city: 'Paris' } }, { To_Account: 'alice', Attrs: { city: 'Rome' } }] });
      assert.equal(r.ErrorCode, 0, JSON.stringify(r));
      assert.deepEqual((await call('get_attr', { To_Account: ['alice'] })).UserAttrs, [{ To_Account: 'alice', Attrs: { city: 'Rome' } }]);
    });

    test('calls fired at once that write the same app rows all succeed: set_attr_name, and new ids for scheduled tasks, certificates and templates', async () => {
      const seen = { sched: new Set<number>(), cert: new Set<number>(), template: new Set<string>() };
      for (const round of range(4)) {
        const [names, scheds, certs, templates] = await Promise.all([
          Promise.all(range(6).map((i) => call('set_attr_name', { AttrNames: { '1': `a${round}-${i}`, '2': `b${round}-${i}` } }))),
          Promise.all(range(6).map(() => call('add_sched_task', { Type: 'All', SchedAt: at(Date.now() + 3600_000), Content: { From_Account: 'administrator', OfflinePushInfo: { PushFlag: 0, Title: 'later', Desc: 'news' } } }))),
          Promise.all(range(6).map((i) => call('set_certificate', { Vendor: 'apns', Name: `c${round}-${i}`, Config: apnsConfig }))),
          Promise.all(range(6).map((i) => call('set_push_template', { Name: `t${round}-${i}`, Desc: 'hello {{name}}' }))),
        ]);
        for (const r of [...names, ...scheds, ...certs, ...templates]) assert.equal(r.ErrorCode, 0, `round ${round}: ${JSON.stringify(r)}`);
        for (const r of scheds) seen.sched.add(r.TaskID);
        for (const r of certs) seen.cert.add(r.CertId);
        for (const r of templates) seen.template.add(r.PushTemplateId);
        // one call's pair of names won, whole
        const current = (await call('get_attr_name', {})).AttrNames;
        assert.equal(current['1'].slice(1), current['2'].slice(1), JSON.stringify(current));
      }
      assert.deepEqual([seen.sched.size, seen.cert.size, seen.template.size], [24, 24, 24], 'every new id is distinct');
      assert.deepEqual([...seen.cert].sort((a, b) => a - b), range(24).map((i) => i + 1), 'ids count up from 1');
    });

    test('a body nested 10,000 deep is 90001 on every admin command, and one 5,000 deep 400 on the device API', async () => {
      const deep = nested(10_000);
      const bodies: Array<[string, string]> = [
        ['push', `{"From_Account":"administrator","MsgRandom":1,"OfflinePushInfo":{"PushFlag":0,"Title":"t","Desc":"d"},"X":${deep}}`],
        ['batch', `{"From_Account":"administrator","MsgRandom":2,"To_Account":["alice"],"OfflinePushInfo":{"PushFlag":0,"Title":"t","Desc":"d"},"X":${deep}}`],
        ['chat_push', `{"From_Account":"bob","To_Account":"alice","MsgRandom":3,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}],"X":${deep}}`],
        ['call_push', `{"From_Account":"bob","To_Account":["alice"],"CallId":"c-1","X":${deep}}`],
        ['add_sched_task', `{"Type":"All","SchedAt":"${at(Date.now() + 3600_000)}","Content":{"From_Account":"administrator","OfflinePushInfo":{"PushFlag":0,"Title":"t","Desc":"d"},"X":${deep}}}`],
        ['get_tag', `{"To_Account":${deep}}`],
      ];
      for (const [command, rawBody] of bodies) {
        const r = await admin(h.url, app, command, null, { rawBody });
        assert.equal(r.ErrorCode, 90001, `${command}: ${JSON.stringify(r)}`);
        assert.match(r.ErrorInfo, /nested deeper than 64 levels$/, command);
      }
      // the device API takes at most 16 KB: 5,000 deep
      const d = await deviceCall(h.url, app, 'POST', '/device/v1/register', `{"installId":"install-deep-1","platform":"ios","x":${nested(5000)}}`);
      assert.deepEqual([d.status, d.body?.error?.code], [400, 'invalid_request'], JSON.stringify(d.body));
      assert.match(d.body.error.message, /nested deeper than 64 levels$/);
    });

    test('a client that writes a 5 MB body before reading reads the limit answer, and the connection then closes', async () => {
      const big = JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) });
      for (const command of ['push', 'batch', 'get_tag', 'set_attr', 'get_certificates', 'set_callback']) {
        const r = await sendThenRead(h.url, { method: 'POST', path: adminPath(app, command), headers: { 'content-type': 'application/json' }, body: big });
        assert.equal(r.status, 200, command);
        assert.equal(JSON.parse(r.body).ErrorCode, 90056, `${command}: ${r.body}`);
        assert.equal(r.headers.connection, 'close', command);
      }
      for (const [method, path] of [['POST', '/device/v1/register'], ['PATCH', '/device/v1/device']]) {
        const r = await sendThenRead(h.url, { method: method!, path: path!, headers: { ...appHeaders(), 'x-herald-registration-id': device.registrationId, authorization: `Bearer ${device.credential}` }, body: big });
        assert.deepEqual([r.status, JSON.parse(r.body).error.code], [413, 'body_too_large'], path);
      }
      // a route that reads no body answers before the body has arrived, and the client reads that too
      const g = await sendThenRead(h.url, { method: 'GET', path: '/device/v1/mutes', headers: { ...appHeaders(), 'x-herald-registration-id': device.registrationId, authorization: `Bearer ${device.credential}` }, body: big });
      assert.deepEqual([g.status, JSON.parse(g.body)], [200, { conversations: [] }]);
      // the server still answers
      assert.equal((await call('get_tag', { To_Account: ['alice'] })).ErrorCode, 0);
    });
  });
}
