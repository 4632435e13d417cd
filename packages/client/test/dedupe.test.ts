import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeenIds } from '../src/dedupe.js';
import { DeviceState } from '../src/state.js';
import { MemoryStorage } from '../src/storage.js';
import type { KeyValueStorage } from '../src/types.js';

test('SeenIds keeps the most recent ids and evicts the oldest first', () => {
  const seen = new SeenIds(3);
  assert.equal(seen.add('a'), true);
  assert.equal(seen.add('b'), true);
  assert.equal(seen.add('a'), false, 'a duplicate is reported');
  seen.add('c');
  seen.add('d'); // evicts a
  assert.equal(seen.size, 3);
  assert.equal(seen.has('a'), false);
  assert.deepEqual(seen.toArray(), ['b', 'c', 'd']);
  // FIFO, not LRU: seeing b again does not save it from eviction.
  seen.add('b');
  seen.add('e');
  assert.deepEqual(seen.toArray(), ['c', 'd', 'e']);
});

test('SeenIds default window is 1000', () => {
  const seen = new SeenIds();
  for (let i = 0; i < 1500; i++) seen.add(`m${i}`);
  assert.equal(seen.size, 1000);
  assert.equal(seen.has('m499'), false);
  assert.equal(seen.has('m500'), true);
  assert.equal(seen.has('m1499'), true);
});

class CountingStorage extends MemoryStorage {
  writes = 0;
  override setItem(key: string, value: string): void {
    this.writes++;
    super.setItem(key, value);
  }
}

function newState(storage: KeyValueStorage, saveDelayMs = 30, seenCapacity?: number): DeviceState {
  return new DeviceState({ storage, key: 'herald:1', server: 'http://h', saveDelayMs, seenCapacity });
}

test('seen ids are saved debounced and restored by the next instance, bounded', async () => {
  const storage = new CountingStorage();
  const a = newState(storage, 30, 3);
  await a.load();
  const afterLoad = storage.writes; // the new install id is saved at once
  assert.equal(afterLoad, 1);
  for (const id of ['x1', 'x2', 'x3', 'x4']) a.markSeen(id);
  assert.equal(a.markSeen('x4'), false);
  assert.equal(storage.writes, afterLoad, 'nothing written before the debounce window ends');
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(storage.writes, afterLoad + 1, 'one write for four ids');

  const b = newState(storage, 30, 3);
  await b.load();
  assert.equal(b.installId, a.installId);
  assert.deepEqual(b.seen.toArray(), ['x2', 'x3', 'x4']);
  assert.equal(b.seen.has('x1'), false);
});

test('flush() writes pending seen ids at once, together with the registration', async () => {
  const storage = new MemoryStorage();
  const a = newState(storage, 60_000);
  await a.load();
  await a.setRegistration({ registrationId: 'r1', credential: 'c1', heartbeatSeconds: 30, gatewayPath: '/g', server: 'http://h' });
  a.markSeen('m1');
  await a.flush();
  const b = newState(storage);
  await b.load();
  assert.equal(b.seen.has('m1'), true);
  assert.equal(b.registration?.registrationId, 'r1');
  assert.equal(b.registration?.credential, 'c1');
});

test('a registration made for another server is not reused, but the install id is', async () => {
  const storage = new MemoryStorage();
  const a = newState(storage);
  await a.load();
  await a.setRegistration({ registrationId: 'r1', credential: 'c1', heartbeatSeconds: 30, gatewayPath: '/g', server: 'http://h' });
  const other = new DeviceState({ storage, key: 'herald:1', server: 'http://elsewhere' });
  await other.load();
  assert.equal(other.registration, undefined);
  assert.equal(other.installId, a.installId);
  assert.match(a.installId, /^[A-Za-z0-9._:-]{8,128}$/);
});
