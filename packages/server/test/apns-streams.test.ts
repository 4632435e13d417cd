import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApnsEmulator } from '@herald/emulators';
import { apnsAdapter } from '../src/channels/vendors/apns.js';
import { parseVendorConfig } from '../src/channels/certificates.js';
import { plainMessage } from './helpers/receipt-capture.js';

let emu: ApnsEmulator;
let config: Record<string, unknown>;
const targets = Array.from({ length: 24 }, (_, i) => ({ registrationId: `r${i}`, token: ApnsEmulator.deviceToken(), locale: null }));

before(async () => {
  // each answer waits, so requests sent together overlap unless something holds them back
  emu = new ApnsEmulator({ maxConcurrentStreams: 100, delayMs: 20 });
  await emu.start();
  config = { ...emu.app('com.example.streams'), production: false, baseUrl: emu.base, caCertificate: emu.caCertificate };
});
after(() => emu.stop());

test('an APNs certificate without maxStreams multiplexes one call’s devices over concurrent streams', async () => {
  emu.resetCounters();
  const results = await apnsAdapter.send(config, plainMessage('task-multiplexed'), targets, {});
  assert.ok(results.every((r) => r.outcome === 'sent'));
  assert.ok(emu.maxConcurrentStreams > 1, `${emu.maxConcurrentStreams} streams at once`);
});

test('maxStreams 1 sends one request at a time, over every call for that certificate', async () => {
  const serial = { ...config, maxStreams: 1 };
  assert.deepEqual(parseVendorConfig('apns', serial), { ok: true, config: serial });
  assert.equal(parseVendorConfig('apns', { ...config, maxStreams: 0 }).ok, false);
  emu.resetCounters();
  const [a, b] = await Promise.all([apnsAdapter.send(serial, plainMessage('task-serial-a'), targets.slice(0, 12), {}), apnsAdapter.send(serial, plainMessage('task-serial-b'), targets.slice(12), {})]);
  assert.ok([...a, ...b].every((r) => r.outcome === 'sent'));
  assert.equal(emu.maxConcurrentStreams, 1);
});
