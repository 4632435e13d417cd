import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeraldError } from '../src/errors.js';
import { DeviceApi, gatewayUrl } from '../src/http.js';

function api(reply: () => Response | Promise<Response>, seen: Request[] = []): DeviceApi {
  const fetchFn: typeof fetch = async (input, init) => {
    seen.push(new Request(input, init));
    return reply();
  };
  return new DeviceApi({ server: 'http://h:1/', sdkAppId: 7, appKey: 'k', fetch: fetchFn });
}

test('an error reply becomes a HeraldError with status and code', async () => {
  const a = api(() => Response.json({ error: { code: 'invalid_app', message: 'wrong key' } }, { status: 401 }));
  await assert.rejects(a.register({ installId: 'inst_12345678', platform: 'node' }), (err: unknown) => {
    assert.ok(err instanceof HeraldError);
    assert.ok(err instanceof Error);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_app');
    assert.equal(err.message, 'wrong key');
    return true;
  });
});

test('a non-JSON error reply still carries the status', async () => {
  const a = api(() => new Response('bad gateway', { status: 502 }));
  await assert.rejects(a.bind({ registrationId: 'r', credential: 'c' }, 'u'), { status: 502, code: 'http_error' });
});

test('a network failure is a HeraldError with status 0', async () => {
  const a = api(() => Promise.reject(new TypeError('fetch failed')));
  await assert.rejects(a.unbind({ registrationId: 'r', credential: 'c' }), { status: 0, code: 'network_error' });
});

test('device calls carry app and device headers, and the documented method, path and body', async () => {
  const seen: Request[] = [];
  const a = api(() => Response.json({ ok: true }), seen);
  const auth = { registrationId: 'r_1', credential: 'sekret' };
  await a.update(auth, { token: null, locale: 'de' });
  await a.bind(auth, 'alice');
  await a.unbind(auth);
  await a.click(auth, 'batch_1');
  await a.unregister(auth);
  assert.deepEqual(
    seen.map((r) => `${r.method} ${r.url}`),
    [
      'PATCH http://h:1/device/v1/device',
      'POST http://h:1/device/v1/bind',
      'POST http://h:1/device/v1/unbind',
      'POST http://h:1/device/v1/click',
      'DELETE http://h:1/device/v1/device',
    ],
  );
  for (const r of seen) {
    assert.equal(r.headers.get('x-herald-sdkappid'), '7');
    assert.equal(r.headers.get('x-herald-appkey'), 'k');
    assert.equal(r.headers.get('x-herald-registration-id'), 'r_1');
    assert.equal(r.headers.get('authorization'), 'Bearer sekret');
  }
  const bodies = await Promise.all(seen.map((r) => r.text()));
  assert.deepEqual(bodies, ['{"token":null,"locale":"de"}', '{"userId":"alice"}', '{}', '{"messageId":"batch_1"}', '']);
});

test('gatewayUrl maps the scheme and keeps a path prefix', () => {
  assert.equal(gatewayUrl('http://127.0.0.1:8080', '/gateway/v1'), 'ws://127.0.0.1:8080/gateway/v1');
  assert.equal(gatewayUrl('https://push.example.com/herald/', '/gateway/v1'), 'wss://push.example.com/herald/gateway/v1');
});
