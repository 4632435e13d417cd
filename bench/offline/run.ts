/**
 * Offline fan-out benchmark, the orchestrator. Every device is offline and has a vendor token: one
 * all-users push goes out entirely through the vendor adapters to the vendor emulators, which run
 * in process(es) of their own and count what they accept. Prints per-vendor counts and sends per
 * second, the task's losses and each process's CPU; writes bench/results/offline-*.json.
 *   Default: 200,000 devices spread evenly over the ten vendors, Web Push given `--webpush` of them.
 *   --apns-only: 20,000 APNs devices, run twice: multiplexed (streams as APNs' SETTINGS allow, on
 *   pooled sessions) and serial (the certificate's maxStreams 1: one request in flight).
 * Usage: npm run bench:offline -- [--devices N] [--webpush N] [--apns-only] [--emulator-procs 1|2]
 * [--vendor-concurrency N] [--push-timeout S] [--settle S] [--timeout S] [--cpu-prof]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { closeAgent } from '../fanout/admin.js';
import { killAll } from '../gateway/child.js';
import { resultsDir } from '../gateway/measure.js';
import { provenance, serverSourceHash } from '../gateway/provenance.js';
import { numberOption } from '../options.js';
import { log, runDeadline, scratchDir } from '../work.js';
import { measureOffline, type OfflineConfig, type OfflineRun, type Variant } from './measure.js';
import { evenShares, type Shares } from './plan.js';
import { printReport } from './report.js';

const { values: argv } = parseArgs({
  options: {
    devices: { type: 'string' },
    webpush: { type: 'string', default: '4000' },
    'apns-only': { type: 'boolean', default: false },
    'emulator-procs': { type: 'string', default: '2' },
    'vendor-concurrency': { type: 'string' },
    'push-timeout': { type: 'string', default: '600' },
    settle: { type: 'string', default: '5' },
    timeout: { type: 'string', default: '1800' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const apnsOnly = argv['apns-only'] ?? false;
const num = (name: keyof typeof argv, min: number, max: number): number => numberOption(argv, name, min, max, true);
argv.devices ??= apnsOnly ? '20000' : '200000';
const devices = num('devices', 10, 2_000_000);
const cfg: OfflineConfig = {
  devices,
  webPush: apnsOnly ? 0 : num('webpush', 0, devices),
  apnsOnly,
  emulatorProcs: num('emulator-procs', 1, 2),
  vendorConcurrency: argv['vendor-concurrency'] === undefined ? undefined : num('vendor-concurrency', 1, 256),
  pushTimeout: num('push-timeout', 5, 3600),
  settle: num('settle', 1, 120),
  timeout: num('timeout', 60, 7200),
  cpuProf: argv['cpu-prof'] ?? false,
};
const shares: Shares = apnsOnly ? { apns: devices } : evenShares(devices, cfg.webPush);
const variants: Variant[] = apnsOnly
  ? [
      { label: 'APNs multiplexed', certExtra: {} },
      { label: 'APNs serial (maxStreams 1)', certExtra: { apns: { maxStreams: 1 } } },
    ]
  : [{ label: 'all vendors', certExtra: {} }];

const workDir = scratchDir(path.join(resultsDir, 'offline-work'));
const profDir = path.join(resultsDir, 'prof', 'offline');

const disarm = runDeadline(cfg.timeout);

const started = new Date();
const prov = provenance();
log(`offline bench: ${variants.map((v) => v.label).join(' + ')}; ${devices} devices; ${cfg.emulatorProcs} emulator process(es); node ${process.version}, ${os.cpus().length} CPUs`);
log(`server: commit ${prov.commit}${prov.uncommitted.length ? ` + uncommitted changes in ${prov.uncommitted.join(', ')}` : ''}; source hash ${prov.serverSourceHash}`);

const runs: (OfflineRun & { serverSource: string })[] = [];
try {
  for (const [k, variant] of variants.entries()) {
    const before = serverSourceHash();
    const r = await measureOffline(k + 1, variant, cfg, shares, workDir, profDir, log);
    const after = serverSourceHash();
    if (before !== prov.serverSourceHash || after !== before) log(`WARNING: server source changed (hash ${prov.serverSourceHash} → ${before} → ${after}); this run is not comparable`);
    runs.push({ ...r, serverSource: before === after ? before : `${before}→${after}` });
    log(`${r.label}: ${r.received} of ${r.devices} devices at the emulators in ${(r.lastMs / 1000).toFixed(2)} s → ${r.perSecond.toFixed(0)} vendor sends/s; task done ${(r.doneMs / 1000).toFixed(2)} s`);
  }
} catch (err) {
  killAll();
  console.error('bench failed:', err);
  process.exit(1);
}
closeAgent();

printReport(runs);
console.log(`\nServer measured: commit ${prov.commit}${prov.uncommitted.length ? ' with uncommitted changes in packages/' : ''}, source hash ${[...new Set(runs.map((r) => r.serverSource))].join(', ')}`);

fs.mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `offline-${started.toISOString().replace(/[:.]/g, '-')}.json`);
const command = `npm run bench:offline -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
fs.writeFileSync(
  file,
  JSON.stringify({ command, started: started.toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemGiB: os.totalmem() / 2 ** 30, config: cfg, shares, server: prov, runs }, null, 2),
);
console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
disarm();

// Missing or duplicated sends and losses fail the run, whatever the timings.
const wrong = runs.flatMap((r) => [
  ...r.vendors.filter((v) => v.received !== v.seeded || v.distinct !== v.seeded).map((v) => `${r.label}: ${v.vendor} emulator accepted ${v.received} (${v.distinct} distinct) of ${v.seeded}`),
  ...r.losses.map((l) => `${r.label}: ${l.Count} lost, ${l.ErrCode} ${l.Stage}: ${l.ErrInfo}`),
]);
if (wrong.length) {
  console.error(`\nFAIL:\n  ${wrong.join('\n  ')}`);
  process.exit(1);
}
