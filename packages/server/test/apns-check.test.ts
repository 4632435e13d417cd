import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { ApnsEmulator, type ApnsApp } from '@herald/emulators';
import { apnsAdapter } from '../src/channels/vendors/apns.js';

let emu: ApnsEmulator;
let apple: ApnsApp;
const config = (a: ApnsApp, extra: Record<string, unknown> = {}) => ({ ...a, production: false, baseUrl: emu.base, caCertificate: emu.caCertificate, ...extra });
const check = (c: Record<string, unknown>) => apnsAdapter.check!(c);

before(async () => {
  emu = new ApnsEmulator();
  await emu.start();
  apple = emu.app('com.example.check');
});
after(() => emu.stop());

test('a good APNs key is taken, and no one is notified', async () => {
  const r = await check(config(apple));
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.match(r.info, new RegExp(`took the provider token of key ${apple.keyId}, team ${apple.teamId}, for com\\.example\\.check`));
  assert.equal(emu.received.length, 0, 'nothing delivered');
  assert.deepEqual(emu.attempts.map((a) => [a.status, a.reason]), [[400, 'PayloadEmpty']]);
  // the production host takes it too: the environment is the tokens', not the key's
  assert.equal((await check(config(apple, { production: true, baseUrl: emu.productionBase }))).ok, true);
});

test('a revoked key, another team or a bundle id the key may not send to is refused, with what to check', async () => {
  emu.revokeKey(apple.keyId);
  try {
    const revoked = await check(config(apple));
    assert.deepEqual(revoked.ok ? revoked : [revoked.code, revoked.ok], [403, false]);
    assert.match(revoked.info, /^InvalidProviderToken: .*keyId, teamId, privateKey/);
  } finally {
    emu.restoreKey(apple.keyId);
  }
  const team = await check(config({ ...apple, teamId: 'ZZZZZZZZZZ' }));
  assert.deepEqual([team.ok, !team.ok && team.code], [false, 403]);
  const bundle = await check(config({ ...apple, bundleId: 'com.example.not-mine' }));
  assert.deepEqual([bundle.ok, !bundle.ok && bundle.code], [false, 400]);
  assert.match(bundle.info, /^TopicDisallowed/);
  assert.equal((await check(config(apple))).ok, true, 'the good key is still taken after the refusals');
});

test('a key that cannot sign ES256 is refused without a request', async () => {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const before = emu.attempts.length;
  const r = await check(config({ ...apple, keyId: 'RSAKEY0001', privateKey: rsa }));
  assert.deepEqual([r.ok, !r.ok && r.code], [false, 0]);
  assert.match(r.info, /cannot sign ES256/);
  assert.equal(emu.attempts.length, before);
});
