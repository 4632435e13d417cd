/**
 * Gateway benchmark, the orchestrator: Herald and a bare `ws` server, measured by the same code in
 * the same run, `--runs` times each; prints medians and writes bench/results/gateway-*.json.
 * Measures memory per idle connected device (RSS and JS heap after forced GC, from zero and from
 * N/2 to N devices) and latency from the push's REST send to device receipt for single pushes at
 * a steady rate. Usage: npm run bench:gateway -- [--devices N] [--rate R] [--seconds S]
 * [--warmup S] [--runs K] [--settle S] [--timeout S] [--only herald|bare] [--cpu-prof]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { killAll } from './child.js';
import { measure, resultsDir, type BenchConfig, type Kind, type RunResult } from './measure.js';
import { provenance, serverSourceHash } from './provenance.js';
import { aims, fmt, printReport } from './report.js';
import { numberOption } from '../options.js';
import { log, runDeadline } from '../work.js';

const { values: argv } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    settle: { type: 'string', default: '5' },
    timeout: { type: 'string', default: '540' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const num = (name: keyof typeof argv, min: number, max: number): number => numberOption(argv, name, min, max);
const PER_CLIENT = 5000; // connections per client process, well under its 20,000 open files
const devices = num('devices', 10, 19_000); // the server holds one file per device; the hard limit is 20,000
const cfg: BenchConfig = {
  devices,
  rate: num('rate', 1, 5000),
  seconds: num('seconds', 1, 300),
  warmup: num('warmup', 0, 60),
  runs: num('runs', 1, 12), // source addresses are planned for at most 12 runs (measure.ts, addresses())
  settle: num('settle', 0, 60),
  timeout: num('timeout', 30, 3600),
  clients: Math.max(2, Math.ceil(devices / PER_CLIENT)),
  cpuProf: argv['cpu-prof'] ?? false,
};
const kinds: Kind[] = argv.only === 'herald' || argv.only === 'bare' ? [argv.only] : ['herald', 'bare'];

const disarm = runDeadline(cfg.timeout);

const started = new Date();
const prov = provenance();
const results: (RunResult & { serverSource: string })[] = [];
log(`gateway bench: ${cfg.devices} devices over ${cfg.clients} client processes, ${cfg.rate} pushes/s for ${cfg.warmup} s warm-up + ${cfg.seconds} s, ${cfg.runs} run(s); node ${process.version}, ${os.cpus().length} CPUs`);
log(`server: commit ${prov.commit}${prov.uncommitted.length ? ` + uncommitted changes in ${prov.uncommitted.join(', ')}` : ''}; source hash ${prov.serverSourceHash}`);
try {
  for (let run = 0; run < cfg.runs; run++) {
    for (const kind of kinds) {
      // Each Herald run loads the source afresh: note what it loaded, and whether it moved meanwhile.
      const before = serverSourceHash();
      const r = await measure(kind, run, cfg, log);
      const after = serverSourceHash();
      if (before !== prov.serverSourceHash || after !== before) log(`WARNING: server source changed (hash ${prov.serverSourceHash} → ${before} → ${after}); this run is not comparable`);
      results.push({ ...r, serverSource: before === after ? before : `${before}→${after}` });
      log(
        `${kind} run ${run + 1}: RSS ${fmt(r.memBefore.rss / 2 ** 20, 1)} → ${fmt(r.memAfter.rss / 2 ** 20, 1)} MiB = ${fmt(r.rssPerDeviceKiB, 2)} KiB/device, ` +
          `heap ${fmt(r.memBefore.heapUsed / 2 ** 20, 1)} → ${fmt(r.memAfter.heapUsed / 2 ** 20, 1)} MiB = ${fmt(r.heapPerDeviceKiB, 2)} KiB/device; ` +
          `N/2 → N: RSS ${fmt(r.rssSecondHalfKiB, 2)}, heap ${fmt(r.heapSecondHalfKiB, 2)} KiB/device; ` +
          `latency p50 ${fmt(r.latencyMs.p50, 2)} p99 ${fmt(r.latencyMs.p99, 2)} max ${fmt(r.latencyMs.max, 2)} ms over ${r.latencyMs.count}; ` +
          `lost ${r.lost}, undelivered ${r.undelivered}, failed ${r.failed}${r.firstError ? ` (${r.firstError})` : ''}, dup ${r.duplicates}, unexpected closes ${r.unexpectedCloses}, server CPU ${fmt(r.serverCpuPct, 1)}%`,
      );
    }
  }
} catch (err) {
  killAll();
  console.error('bench failed:', err);
  process.exit(1);
}

const a = aims(results);
printReport(results, cfg, a);
const sources = new Set(results.filter((r) => r.server === 'herald').map((r) => r.serverSource));
console.log(`\nServer measured: commit ${prov.commit}${prov.uncommitted.length ? ' with uncommitted changes in packages/' : ''}, source hash ${[...sources].join(', ')}`);
if (sources.size > 1 || [...sources][0] !== prov.serverSourceHash) console.log('WARNING: the server source changed during the benchmark; the Herald runs measured different code.');

fs.mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `gateway-${started.toISOString().replace(/[:.]/g, '-')}.json`);
const command = `npm run bench:gateway -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
fs.writeFileSync(file, JSON.stringify({ command, started: started.toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemGiB: os.totalmem() / 2 ** 30, config: cfg, server: prov, aims: a, results }, null, 2));
console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
disarm();
