import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeCase, prepareTarget, runFuzz, type FuzzTarget } from '../../../bench/fuzz/fuzzer.js';
import { testDatabases } from './helpers/dialects.js';
import { NO_RATE_LIMITS, startTestHerald, type TestHerald } from './helpers/herald.js';

/** A few hundred cases of the seeded fuzz (`npm run fuzz` runs thousands), the same ones every run. */
const SEED = 15;
const CASES = 400;

for (const db of await testDatabases()) {
  describe(`fuzz (${db.name})`, () => {
    let h: TestHerald;
    let target: FuzzTarget;
    before(async () => {
      h = await startTestHerald(db, NO_RATE_LIMITS);
      target = await prepareTarget(h.url, await h.createApp('fuzz'));
    });
    after(async () => h.stop());

    test(`${CASES} seeded cases over every admin command and device route: no 5xx, no 91000, no dropped connection`, async () => {
      const r = await runFuzz(target, { seed: SEED, from: 0, count: CASES });
      const failures = r.failures.map((f) => `${f.outcome.endpoint}: ${f.outcome.failure}\n  replay: npm run fuzz -- --seed ${SEED} --dialect ${db.name} --case ${f.fuzzCase.n}\n  case: ${describeCase(f.fuzzCase, 300)}`);
      assert.deepEqual(failures, []);
      // the cases reached every endpoint, and some got through validation
      assert.ok(r.counts.size >= 50, `${r.counts.size} endpoints reached`);
      const accepted = [...r.counts.values()].reduce((n, codes) => n + (codes.get('0') ?? 0) + (codes.get('200') ?? 0), 0);
      assert.ok(accepted > CASES / 10, `${accepted} requests accepted`);
    });
  });
}
