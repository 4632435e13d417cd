import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultStorage, FileStorage, MemoryStorage } from '../src/storage.js';

const dir = await mkdtemp(join(tmpdir(), 'herald-client-'));
after(() => rm(dir, { recursive: true, force: true }));

test('FileStorage round trip through a new instance', async () => {
  const path = join(dir, 'nested', 'device.json');
  const a = new FileStorage(path);
  assert.equal(await a.getItem('k'), null);
  await a.setItem('k', '{"v":1}');
  await a.setItem('other', 'x');
  await a.removeItem('other');

  const b = new FileStorage(path);
  assert.equal(await b.getItem('k'), '{"v":1}');
  assert.equal(await b.getItem('other'), null);
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { k: '{"v":1}' });
  // It holds the device credential, so only the owner may read it.
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test('FileStorage keeps the last of concurrent writes and leaves no temporary files', async () => {
  const path = join(dir, 'concurrent.json');
  const s = new FileStorage(path);
  await Promise.all(Array.from({ length: 20 }, (_, i) => s.setItem('k', String(i))));
  assert.equal(await new FileStorage(path).getItem('k'), '19');
  const { readdir } = await import('node:fs/promises');
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
});

test('FileStorage treats a corrupt file as empty', async () => {
  const path = join(dir, 'corrupt.json');
  await writeFile(path, '{not json');
  const s = new FileStorage(path);
  assert.equal(await s.getItem('k'), null);
  await s.setItem('k', 'v');
  assert.equal(await new FileStorage(path).getItem('k'), 'v');
});

test('in Node the default storage is one FileStorage per path, so clients sharing a file keep each other\'s keys', async () => {
  const path = join(dir, 'shared.json');
  const a = defaultStorage(path);
  const b = defaultStorage(path);
  assert.ok(a instanceof FileStorage);
  assert.equal(a, b);
  assert.notEqual(defaultStorage(join(dir, 'other.json')), a);
  await a.setItem('herald:1', 'one');
  await b.setItem('herald:2', 'two');
  const fresh = new FileStorage(path);
  assert.equal(await fresh.getItem('herald:1'), 'one');
  assert.equal(await fresh.getItem('herald:2'), 'two');
});

test('MemoryStorage round trip', () => {
  const m = new MemoryStorage();
  m.setItem('a', '1');
  assert.equal(m.getItem('a'), '1');
  m.removeItem('a');
  assert.equal(m.getItem('a'), null);
});
