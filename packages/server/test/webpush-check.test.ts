import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import webpush from 'web-push';
import { WebPushEmulator } from '@herald/emulators';
import { createWebPushAdapter } from '../src/channels/vendors/webpush.js';
import { webPushEncryption } from '../src/channels/vendors/webpush-encryption.js';
import { plainMessage } from './helpers/receipt-capture.js';

const encryption = webPushEncryption(0);
const adapter = createWebPushAdapter(encryption);
const emu = new WebPushEmulator();
const subject = 'mailto:ops@example.com';
const check = (c: Record<string, unknown>) => adapter.check!(c);

before(() => emu.start());
after(async () => {
  await encryption.close();
  await emu.stop();
});

test('a VAPID key pair that signs what a push service takes passes the check', async () => {
  const keys = { ...webpush.generateVAPIDKeys(), subject };
  const r = await check(keys);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.match(r.info, /P-256 pair and signs tokens for mailto:ops@example\.com/);
  // what passed is what the push service takes
  const sub = emu.subscribe(keys.publicKey);
  const [sent] = await adapter.send(keys, plainMessage('task-vapid-check'), [{ registrationId: 'r1', token: JSON.stringify(sub), locale: null }], {});
  assert.equal(sent!.outcome, 'sent');
});

test('keys that are not a pair, or not P-256 keys, fail the check with what is wrong; the push service refuses such keys', async () => {
  const [a, b] = [webpush.generateVAPIDKeys(), webpush.generateVAPIDKeys()];
  const mismatched = { publicKey: a.publicKey, privateKey: b.privateKey, subject };
  const r = await check(mismatched);
  assert.deepEqual([r.ok, !r.ok && r.code], [false, 0]);
  assert.match(r.info, /publicKey is not privateKey's public key/);
  const [sent] = await adapter.send(mismatched, plainMessage('task-vapid-mismatch'), [{ registrationId: 'r2', token: JSON.stringify(emu.subscribe()), locale: null }], {});
  assert.deepEqual([sent!.outcome, 'code' in sent! && sent.code], ['certificate', 403]);

  const short = await check({ ...a, publicKey: a.publicKey.slice(0, 40) });
  assert.match(short.info, /publicKey is not an uncompressed P-256 point/);
  const notKey = await check({ ...a, privateKey: 'not a key!' });
  assert.match(notKey.info, /privateKey is not a P-256 private key/);
  assert.equal([short, notKey].some((x) => x.ok), false);
});
