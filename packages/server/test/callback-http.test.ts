import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { postCallback } from '../src/callbacks/http.js';

// the collector, run on demand: a timeout signal that nothing holds must still fire (nodejs/node#57736)
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

test('a backend that never answers fails the request after its timeout, even while garbage is collected', { timeout: 10_000 }, async () => {
  const server = http.createServer(() => {}); // reads the request, never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const collecting = setInterval(gc, 20);
  try {
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 5 }, () => postCallback(url, '{"Events":[]}', 200, new AbortController().signal)));
    assert.deepEqual(results, Array(5).fill({ ok: false, error: 'no answer in time' }));
    assert.ok(Date.now() - t0 < 3000, `given up in ${Date.now() - t0} ms`);
  } finally {
    clearInterval(collecting);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('stop aborts a request in flight, and says so', async () => {
  const server = http.createServer(() => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    assert.deepEqual(await postCallback(url, '{"Events":[]}', 5000, stop.signal), { ok: false, error: 'aborted' });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
