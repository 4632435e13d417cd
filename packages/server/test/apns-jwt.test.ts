import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { collapseIdOf, JWT_RENEW_MS, ProviderTokens } from '../src/channels/vendors/apns.js';

const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = { keyId: 'ABC123DEFG', teamId: 'TEAM123456', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
const MIN = 60_000;

function decode(jwt: string): { header: unknown; claims: unknown; valid: boolean } {
  const [h, c, sig] = jwt.split('.') as [string, string, string];
  const valid = crypto.verify('sha256', Buffer.from(`${h}.${c}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), claims: JSON.parse(Buffer.from(c, 'base64url').toString()), valid };
}

test('the provider JWT is ES256 with kid, iss and iat, signed by the key', () => {
  const now = 1_800_000_000_000;
  const jwt = new ProviderTokens(() => now).get(key);
  assert.deepEqual(decode(jwt), { header: { alg: 'ES256', kid: key.keyId }, claims: { iss: key.teamId, iat: now / 1000 }, valid: true });
});

test('one JWT per key for 50 minutes, then a new one; an ExpiredProviderToken renews it once, whatever its age', () => {
  let now = 1_800_000_000_000;
  const tokens = new ProviderTokens(() => now);
  const first = tokens.get(key);
  now += 20 * MIN;
  assert.equal(tokens.get(key), first);
  now += 29 * MIN;
  assert.equal(tokens.get(key), first, 'still at 49 minutes');
  now += JWT_RENEW_MS - 49 * MIN;
  const second = tokens.get(key);
  assert.notEqual(second, first, 'renewed at 50 minutes, before the hour APNs allows');
  assert.equal((decode(second).claims as { iat: number }).iat, now / 1000);

  now += MIN;
  const third = tokens.get(key, second);
  assert.notEqual(third, second, 'APNs called it expired: renewed at once');
  assert.equal(tokens.get(key, second), third, 'a second request refused with the same token gets the renewed one, not another');
  assert.equal(tokens.get(key), third);
});

test('a refused key leaves nothing cached; another key or team has its own token', () => {
  const tokens = new ProviderTokens(() => 1_800_000_000_000);
  const a = tokens.get(key);
  assert.notEqual(tokens.get({ ...key, keyId: 'OTHERKEY01' }), a);
  tokens.forget(key, 'not-the-cached-one');
  assert.equal(tokens.get(key), a);
  tokens.forget(key, a);
  assert.notEqual(tokens.get(key), a);
});

test('apns-collapse-id is the TaskId up to 64 bytes, else its SHA-256 in hex', () => {
  const id = 'batch_667015d4_537529d8_2000005e80aa873_d03ac87_56f5e750';
  assert.equal(collapseIdOf(id), id);
  const long = `x${'y'.repeat(64)}`;
  assert.equal(collapseIdOf(long), crypto.createHash('sha256').update(long).digest('hex'));
  assert.equal(Buffer.byteLength(collapseIdOf(long)), 64);
});
