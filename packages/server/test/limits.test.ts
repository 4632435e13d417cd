import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config.js';
import { addressKey, attemptLimiter, FailureGuard, MemoryAttemptLimiter, unlimited } from '../src/limits/index.js';

test('a token bucket allows its bound at once, then one more per share of the minute', async () => {
  let now = 0;
  const l = new MemoryAttemptLimiter(6, 100, () => now);
  for (let i = 0; i < 6; i++) assert.equal((await l.take('a')).ok, true);
  const refused = await l.take('a');
  assert.deepEqual(refused, { ok: false, retryAfterMs: 10_000 });
  assert.equal((await l.take('b')).ok, true, 'another key has its own bucket');
  now = 9_999;
  assert.equal((await l.take('a')).ok, false);
  now = 10_000;
  assert.equal((await l.take('a')).ok, true);
  assert.equal((await l.take('a')).ok, false);
});

test('peek counts nothing and tells whether a key has attempts on record; a refilled key is forgotten', async () => {
  let now = 0;
  const l = new MemoryAttemptLimiter(2, 100, () => now);
  assert.deepEqual(await l.peek('a'), { ok: true, retryAfterMs: 0, untouched: true });
  await l.take('a');
  assert.deepEqual(await l.peek('a'), { ok: true, retryAfterMs: 0, untouched: false });
  await l.take('a');
  assert.deepEqual(await l.peek('a'), { ok: false, retryAfterMs: 30_000, untouched: false });
  assert.equal(l.size, 1);
  now = 60_000;
  assert.equal((await l.peek('a')).untouched, true);
  assert.equal(l.size, 0);
});

test('memory is bounded: past maxKeys the least recently counted key is dropped', async () => {
  const l = new MemoryAttemptLimiter(1, 3, () => 0);
  for (const k of ['a', 'b', 'c']) await l.take(k);
  await l.take('a'); // refused: 'a' stays, and is not moved
  await l.take('d');
  assert.equal(l.size, 3);
  assert.equal((await l.peek('a')).untouched, true, 'the oldest key went');
  assert.equal((await l.peek('d')).ok, false);
});

test('0 is no bound', async () => {
  const l = attemptLimiter(0);
  assert.equal(l, unlimited);
  for (let i = 0; i < 1000; i++) assert.equal((await l.take('a')).ok, true);
});

test('addresses are keyed as IPv4, or IPv6 by /64', () => {
  assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
  assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('1::2:3:4:5:1.2.3.4'), '1:0:2:3::/64');
  assert.equal(addressKey(undefined), 'unknown');
});

test('a failure guard refuses an address past its bound, and failing addresses while the app is past its own', async () => {
  let now = 0;
  const guard = new FailureGuard(new MemoryAttemptLimiter(2, 100, () => now), new MemoryAttemptLimiter(3, 100, () => now));
  await guard.failed('203.0.113.1', 7);
  assert.equal(await guard.refusal('203.0.113.1', 7), null);
  await guard.failed('203.0.113.1', 7);
  assert.equal((await guard.refusal('203.0.113.1', 7))?.scope, 'address');
  await guard.failed('203.0.113.2', 7); // the app's third
  assert.deepEqual(await guard.refusal('203.0.113.2', 7), { scope: 'app', retryAfterMs: 20_000 });
  assert.equal(await guard.refusal('203.0.113.3', 7), null, 'an address with no failure is not refused');
  assert.equal(await guard.refusal('203.0.113.2', 8), null, 'another app is not refused');
  now = 60_000;
  assert.equal(await guard.refusal('203.0.113.1', 7), null);
});

test('configuration: defaults on, 0 allowed, HERALD_TRUST_PROXY and HERALD_METRICS_TOKEN checked', () => {
  const c = loadConfig({});
  assert.deepEqual(c.limits, {
    adminAuthFailuresPerAddress: 30,
    adminAuthFailuresPerApp: 300,
    deviceAuthFailuresPerAddress: 60,
    deviceAuthFailuresPerApp: 600,
    registrationsPerAddress: 120,
    registrationsPerApp: 12_000,
  });
  assert.equal(c.trustProxy, false);
  assert.equal(c.metricsToken, undefined);
  assert.equal(loadConfig({ HERALD_LIMIT_REGISTRATIONS_PER_APP: '0' }).limits.registrationsPerApp, 0);
  assert.equal(loadConfig({ HERALD_TRUST_PROXY: 'true' }).trustProxy, true);
  assert.deepEqual(loadConfig({ HERALD_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy, ['loopback', '10.0.0.0/8']);
  assert.throws(() => loadConfig({ HERALD_TRUST_PROXY: 'proxy.example' }), /HERALD_TRUST_PROXY/);
  assert.throws(() => loadConfig({ HERALD_METRICS_TOKEN: 'short' }), /HERALD_METRICS_TOKEN: must be at least 16/);
  assert.throws(() => loadConfig({ HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_ADDRESS: '-1' }), /HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_ADDRESS/);
});
