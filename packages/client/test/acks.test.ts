import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AckBatcher } from '../src/acks.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('acks within one window go out as one frame, sorted and without repeats', async () => {
  const frames: number[][] = [];
  const acks = new AckBatcher(20, (seqs) => (frames.push(seqs), true));
  acks.add(3);
  acks.add(1);
  acks.add(2);
  acks.add(1);
  assert.deepEqual(frames, [], 'nothing sent before the window ends');
  await sleep(50);
  assert.deepEqual(frames, [[1, 2, 3]]);
  acks.add(4);
  await sleep(50);
  assert.deepEqual(frames, [[1, 2, 3], [4]]);
});

test('a frame carries at most 500 seqs', () => {
  const frames: number[][] = [];
  const acks = new AckBatcher(10_000, (seqs) => (frames.push(seqs), true));
  for (let s = 1; s <= 1200; s++) acks.add(s);
  acks.flush();
  assert.deepEqual(
    frames.map((f) => f.length),
    [500, 500, 200],
  );
  assert.ok(frames.every((f) => f.length <= 500));
  assert.equal(frames[2]?.[199], 1200);
});

test('acks are kept while there is no connection and sent by the next flush', () => {
  let online = false;
  const frames: number[][] = [];
  const acks = new AckBatcher(10_000, (seqs) => online && (frames.push(seqs), true));
  acks.add(7);
  acks.flush();
  assert.deepEqual(frames, []);
  assert.equal(acks.size, 1);
  online = true;
  acks.flush();
  assert.deepEqual(frames, [[7]]);
  assert.equal(acks.size, 0);
});
