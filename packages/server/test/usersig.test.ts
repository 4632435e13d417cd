import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { genUserSig, verifyUserSig } from '../src/auth/usersig.js';

// Tencent's own generator, to prove byte-for-byte compatibility.
const require = createRequire(import.meta.url);
const TLSSigAPIv2 = require('tls-sig-api-v2') as { Api: new (sdkAppId: number, key: string) => { genSig(id: string, expire: number): string; genUserSig(id: string, expire: number): string } };

const APP = 1400123456;
const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';

test("a UserSig from Tencent's tls-sig-api-v2 is accepted", () => {
  const sig = new TLSSigAPIv2.Api(APP, KEY).genUserSig('administrator', 86400);
  assert.equal(verifyUserSig(sig, APP, 'administrator', KEY), null);
});

test('our UserSig has the same shape as Tencent and verifies', () => {
  const ours = genUserSig(APP, KEY, 'administrator', 86400);
  assert.match(ours, /^[A-Za-z0-9*_-]+$/);
  assert.equal(verifyUserSig(ours, APP, 'administrator', KEY), null);
});

test('a tampered UserSig is refused with 70009 or 70003', () => {
  const sig = new TLSSigAPIv2.Api(APP, KEY).genUserSig('administrator', 86400);
  assert.equal(verifyUserSig(sig, APP, 'administrator', KEY.replace(/^5/, '6'))?.code, 70009, 'other key');
  const flipped = sig.slice(0, 20) + (sig[20] === 'A' ? 'B' : 'A') + sig.slice(21);
  const r = verifyUserSig(flipped, APP, 'administrator', KEY);
  assert.ok(r && (r.code === 70003 || r.code === 70009), `flipped byte gave ${JSON.stringify(r)}`);
  assert.equal(verifyUserSig('not-a-sig', APP, 'administrator', KEY)?.code, 70003);
  assert.equal(verifyUserSig('', APP, 'administrator', KEY)?.code, 70003);
});

test('an expired UserSig is refused with 70001', () => {
  const old = genUserSig(APP, KEY, 'administrator', 60, Date.now() - 3600_000);
  assert.equal(verifyUserSig(old, APP, 'administrator', KEY)?.code, 70001);
});

test('a UserSig for another app or identifier is refused', () => {
  const sig = new TLSSigAPIv2.Api(APP + 1, KEY).genUserSig('administrator', 86400);
  assert.equal(verifyUserSig(sig, APP, 'administrator', KEY)?.code, 70014);
  const bob = genUserSig(APP, KEY, 'bob', 86400);
  assert.equal(verifyUserSig(bob, APP, 'administrator', KEY)?.code, 70013);
});

test('the UserSig cache remembers valid UserSigs only until they expire, and per key', async () => {
  const { UserSigCache } = await import('../src/auth/usersig-cache.js');
  const cache = new UserSigCache(2);
  const t0 = Date.now();
  const sig = genUserSig(APP, KEY, 'administrator', 10, t0);
  assert.equal(cache.verify(sig, APP, 'administrator', KEY, t0), null);
  assert.equal(cache.verify(sig, APP, 'administrator', KEY, t0 + 5_000), null);
  assert.equal(cache.verify(sig, APP, 'administrator', KEY, t0 + 11_000)?.code, 70001, 'a cached UserSig still expires');
  assert.equal(cache.verify(sig, APP, 'administrator', KEY.replace(/^5/, '6'), t0)?.code, 70009, 'another key is checked anew');
  assert.equal(cache.verify(sig, APP, 'bob', KEY, t0)?.code, 70013);
});
