import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CertificateGates, Gate } from '../src/channels/certificate-gates.js';
import type { CertificateRow } from '../src/store/certificates.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a gate keeps at most `concurrency` vendor calls in flight, the rest wait their turn in order', async () => {
  const gate = new Gate({ concurrency: 2, perSecond: 0 });
  let inFlight = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all(
    [0, 1, 2, 3, 4].map((i) =>
      gate.run(1, async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(20);
        order.push(i);
        inFlight--;
      }),
    ),
  );
  assert.equal(most, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
});

test('a gate paces devices per second across calls', async () => {
  const gate = new Gate({ concurrency: 8, perSecond: 100 });
  const t0 = performance.now();
  await gate.run(50, async () => undefined);
  await gate.run(50, async () => undefined);
  await gate.run(1, async () => undefined);
  // 100 devices at 100/s: the third call waits about a second
  assert.ok(performance.now() - t0 >= 950, `${performance.now() - t0} ms`);
});

test('a pause holds until it lapses; a longer one wins over a shorter one', () => {
  const gate = new Gate({ concurrency: 1, perSecond: 0 });
  assert.equal(gate.paused(), undefined);
  gate.pauseFor(60_000, 200001, 'exceed quota');
  gate.pauseFor(1_000, 10034, 'shorter');
  const p = gate.paused()!;
  assert.equal(p.code, 200001);
  assert.equal(gate.paused(p.until + 1), undefined, 'lapsed');
});

test('a changed certificate gets a fresh gate, unpaused; an unchanged one keeps its gate', () => {
  const gates = new CertificateGates({ concurrency: 8, perSecond: 0 });
  const row = { cert_id: 1, updated_at: 1 } as CertificateRow;
  const g = gates.of(7, row, {});
  g.pauseFor(60_000, 33, 'quota');
  assert.equal(gates.of(7, row, {}), g);
  const renewed = gates.of(7, { ...row, updated_at: 2 }, { limits: { concurrency: 1 } });
  assert.notEqual(renewed, g);
  assert.equal(renewed.paused(), undefined);
  assert.equal(renewed.limits.concurrency, 1);
});
