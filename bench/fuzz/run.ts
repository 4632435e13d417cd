/**
 * A seeded fuzz of the admin REST API and the device API: starts a real Herald on each dialect,
 * makes an app with a few fixtures, and sends it seeded random and mutated bodies (cases.ts). Prints
 * the answers counted per endpoint and code, and fails (exit 1) on any HTTP 5xx, any 91000 or any
 * dropped connection, printing the seed and the case to replay it.
 *
 *   npm run fuzz -- [--cases 5000] [--seed 1] [--dialect sqlite|postgres|both] [--parallel 1] [--case N]
 *
 * --parallel N sends N cases at once, for races between different calls; the cases stay the seed's,
 * but the order they meet in does not repeat.
 *
 * PostgreSQL is the test database (HERALD_TEST_PG, default postgres://postgres@127.0.0.1:5432/test).
 */
import { parseArgs } from 'node:util';
import { testDatabases, type TestDatabase } from '../../packages/server/test/helpers/dialects.js';
import { NO_RATE_LIMITS, startTestHerald } from '../../packages/server/test/helpers/herald.js';
import { numberOption } from '../options.js';
import { log } from '../work.js';
import { describeCase, prepareTarget, runFuzz, type FuzzResult } from './fuzzer.js';

const { values: argv } = parseArgs({
  options: {
    cases: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '1' },
    dialect: { type: 'string', default: 'both' },
    parallel: { type: 'string', default: '1' },
    case: { type: 'string' },
  },
});
const seed = numberOption(argv, 'seed', 0, 2 ** 32 - 1, true);
const only = argv.case === undefined ? undefined : numberOption(argv, 'case', 0, Number.MAX_SAFE_INTEGER, true);
const parallel = numberOption(argv, 'parallel', 1, 64, true);
const count = only === undefined ? numberOption(argv, 'cases', 1, 10_000_000, true) : 1;
if (!['sqlite', 'postgres', 'both'].includes(argv.dialect!)) throw new Error('--dialect must be sqlite, postgres or both');

const available = await testDatabases();
const dialects = available.filter((d) => argv.dialect === 'both' || d.name === argv.dialect);
if (dialects.length === 0 || (argv.dialect === 'both' && dialects.length < 2)) throw new Error(`dialect ${argv.dialect} is not available here (PostgreSQL not reachable?)`);

function report(db: TestDatabase, r: FuzzResult, ms: number): void {
  console.log(`\n${db.name}: seed ${seed}, ${count} cases${parallel > 1 ? ` (${parallel} at once)` : ''}, ${r.sends} requests in ${(ms / 1000).toFixed(1)} s, ${r.failures.length} failures`);
  const rows = [...r.counts].sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...rows.map(([e]) => e.length));
  for (const [endpoint, codes] of rows) {
    const parts = [...codes].sort(([, a], [, b]) => b - a).map(([code, n]) => `${code}×${n}`);
    console.log(`  ${endpoint.padEnd(width)}  ${parts.join('  ')}`);
  }
  for (const f of r.failures.slice(0, 20)) {
    console.log(`\nFAIL ${f.outcome.endpoint}: ${f.outcome.failure}`);
    console.log(`  replay: npm run fuzz -- --seed ${seed} --dialect ${db.name} --case ${f.fuzzCase.n}`);
    console.log(`  case: ${describeCase(f.fuzzCase)}`);
  }
  if (r.failures.length > 20) console.log(`\n… and ${r.failures.length - 20} more failures`);
}

let failed = false;
for (const db of dialects) {
  // limits off: thousands of failing calls from one address would otherwise all meet them
  const h = await startTestHerald(db, NO_RATE_LIMITS);
  try {
    const app = await h.createApp('fuzz');
    const target = await prepareTarget(h.url, app);
    log(`${db.name}: Herald at ${h.url}; seed ${seed}, ${only === undefined ? `cases 0–${count - 1}` : `case ${only}`}`);
    const started = Date.now();
    const r = await runFuzz(target, { seed, from: only ?? 0, count, parallel, onCase: (n) => (n + 1) % 1000 === 0 && log(`${db.name}: ${n + 1} cases`) });
    report(db, r, Date.now() - started);
    failed ||= r.failures.length > 0;
  } finally {
    await h.stop();
  }
}
process.exit(failed ? 1 : 0);
