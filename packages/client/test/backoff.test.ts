import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../src/backoff.js';

test('backoff ceilings double from min up to max, with full jitter below them', () => {
  // random() just under 1 gives the ceiling of each attempt (minus rounding).
  const top = new Backoff(500, 30_000, () => 0.999999);
  const tops = Array.from({ length: 10 }, () => top.next());
  assert.deepEqual(tops, [499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999, 29_999]);

  const bottom = new Backoff(500, 30_000, () => 0);
  for (let i = 0; i < 5; i++) assert.equal(bottom.next(), 0);
});

test('backoff with Math.random stays within [0, ceiling) for every attempt', () => {
  const b = new Backoff(100, 1000);
  for (let round = 0; round < 200; round++) {
    b.reset();
    for (let attempt = 0; attempt < 8; attempt++) {
      const ceiling = Math.min(1000, 100 * 2 ** attempt);
      const d = b.next();
      assert.ok(Number.isInteger(d) && d >= 0 && d < ceiling, `attempt ${attempt}: ${d} not in [0, ${ceiling})`);
    }
  }
});

test('reset() starts again from the minimum', () => {
  const b = new Backoff(500, 30_000, () => 0.999999);
  for (let i = 0; i < 6; i++) b.next();
  b.reset();
  assert.equal(b.next(), 499);
});

test('many attempts never overflow past max', () => {
  const b = new Backoff(500, 30_000, () => 0.999999);
  let last = 0;
  for (let i = 0; i < 5000; i++) last = b.next();
  assert.equal(last, 29_999);
});
