/**
 * Fan-out benchmark, the orchestrator. Seeds (or reuses) a Herald store of N devices with tags and
 * attributes, then per run: Herald on a fresh copy of it, DryRun audience counts timed and checked
 * against the seed model, C devices connected, one all-users push timed to every connected device
 * and to task completion; then the bare `ws` baseline broadcasting the same body to the same C
 * devices. Prints medians and writes bench/results/fanout-*.json.
 * Usage: npm run bench:fanout -- [--devices N] [--connected C] [--runs K] [--calls M] [--settle S]
 * [--push-timeout S] [--timeout S] [--reseed] [--only herald|bare] [--cpu-prof] [--statistics on|off|compare] [--callbacks on|off]
 * `--statistics compare` measures each Herald run twice: statistics off, then on with the app's
 * callbacks posted to a sink in this process (`--callbacks off`: no callback URL), and prints the slowdown.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Child, killAll } from '../gateway/child.js';
import { resultsDir } from '../gateway/measure.js';
import type { DeviceEntry } from '../gateway/protocol.js';
import { provenance, serverSourceHash } from '../gateway/provenance.js';
import { fmt } from '../gateway/report.js';
import { closeAgent } from './admin.js';
import { measureBare, measureHerald, type FanoutConfig, type HeraldRun, type Kind, type PushResult } from './measure.js';
import * as model from './model.js';
import { aims, printReport } from './report.js';
import type { SeedInfo } from './seed.js';
import { numberOption } from '../options.js';
import { log, runDeadline, scratchDir } from '../work.js';
import { CallbackSink } from './callback-sink.js';
import { statisticsTable } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const { values: argv } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000000' },
    connected: { type: 'string', default: '19000' },
    runs: { type: 'string', default: '3' },
    calls: { type: 'string', default: '5' },
    settle: { type: 'string', default: '2' },
    'push-timeout': { type: 'string', default: '120' },
    timeout: { type: 'string', default: '1500' },
    reseed: { type: 'boolean', default: false },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    statistics: { type: 'string', default: 'on' },
    callbacks: { type: 'string', default: 'on' },
  },
});
const num = (name: keyof typeof argv, min: number, max: number): number => numberOption(argv, name, min, max, true);
const PER_CLIENT = 10_000; // connections per client process, under its 20,000 open files
const devices = num('devices', 100, 9_999_999); // registration ids have 7 digits
// Every connected device is also one open file in the server process, which may hold 20,000 in all.
const connected = num('connected', 10, Math.min(19_500, devices));
const cfg: FanoutConfig = {
  devices,
  connected,
  runs: num('runs', 1, 12), // source addresses are planned for at most 12 runs (measure.ts)
  calls: num('calls', 1, 100),
  clients: Math.ceil(connected / PER_CLIENT),
  pushTimeout: num('push-timeout', 5, 3600),
  settle: num('settle', 0, 60),
  timeout: num('timeout', 60, 7200),
  cpuProf: argv['cpu-prof'] ?? false,
};
if (argv.only !== undefined && argv.only !== 'herald' && argv.only !== 'bare') throw new Error('--only must be herald or bare');
const statistics = argv.statistics ?? 'on';
if (!['on', 'off', 'compare'].includes(statistics)) throw new Error('--statistics must be on, off or compare');
// statistics on: the app's callbacks go to a sink in this process, as an app's backend would take them
const variantsOn = statistics === 'compare' ? [false, true] : [statistics === 'on'];
if (argv.callbacks !== 'on' && argv.callbacks !== 'off') throw new Error('--callbacks must be on or off');
const withCallbacks = argv.callbacks === 'on';
const kinds: Kind[] = argv.only === 'herald' || argv.only === 'bare' ? [argv.only] : ['herald', 'bare'];

// Per-invocation scratch (store copies, the connected devices' credentials), removed at exit.
const workDir = scratchDir(path.join(resultsDir, 'fanout-work'));
const profDir = path.join(resultsDir, 'prof', 'fanout');

const disarm = runDeadline(cfg.timeout);

const started = new Date();
const prov = provenance();
log(`fan-out bench: ${cfg.devices} devices, ${cfg.connected} connected over ${cfg.clients} client process(es), ${cfg.runs} run(s) of ${kinds.join(' + ')}; node ${process.version}, ${os.cpus().length} CPUs`);
log(`server: commit ${prov.commit}${prov.uncommitted.length ? ` + uncommitted changes in ${prov.uncommitted.join(', ')}` : ''}; source hash ${prov.serverSourceHash}`);

const heraldRuns: (HeraldRun & { serverSource: string })[] = [];
const bareRuns: PushResult[] = [];
let seed: SeedInfo | undefined;
let expected: number[] = [];
try {
  if (kinds.includes('herald')) {
    // In its own process, so the overall timeout can stop it like any other child.
    const seeder = new Child('seed', path.join(here, 'seed.ts'), ['--devices', String(cfg.devices), ...(argv.reseed ? ['--reseed'] : [])], []);
    seed = (await seeder.waitFor('seeded', 900_000)) as unknown as SeedInfo;
    await seeder.exitWithin(10_000);
    log(`seed: ${seed.reused ? 'reused' : 'made'} ${path.relative(process.cwd(), seed.dataDir)} (SDKAppID ${seed.sdkAppId}; ${seed.rows.devices} devices, ${seed.rows.accountTags} tags, ${seed.rows.accountAttrs} attributes; seeding took ${(seed.seedMs / 1000).toFixed(1)} s${seed.reused ? ` on ${seed.seededAt}` : ''})`);
    const t0 = performance.now();
    expected = model.expectedCounts(cfg.devices);
    log(`expected audiences from the seed model (${(performance.now() - t0).toFixed(0)} ms): ${model.AUDIENCE_CASES.map((c, i) => `${c.label} → ${expected[i]}`).join('; ')}`);
  }
  // The connected devices, spread over the whole index range; credentials come from the model.
  const devicesFile = path.join(workDir, 'connected-devices.json');
  const entries: DeviceEntry[] = model.connectedIndexes(cfg.devices, cfg.connected).map((i) => ({ r: model.registrationId(i), c: model.credential(i) }));
  fs.writeFileSync(devicesFile, JSON.stringify(entries));

  const sink = new CallbackSink();
  if (variantsOn.includes(true) && withCallbacks) await sink.start();
  for (let run = 0; run < cfg.runs; run++) {
    // the order alternates, so that whatever a run leaves behind for the next one weighs on both variants alike
    const order = run % 2 === 0 ? variantsOn : [...variantsOn].reverse();
    for (const [index, statsOn] of (seed ? order : []).entries()) {
      // Each Herald run loads the source afresh: note what it loaded, and whether it moved meanwhile.
      const before = serverSourceHash();
      const r = await measureHerald(run, cfg, seed!, model.AUDIENCE_CASES, expected, workDir, devicesFile, profDir, log, { statistics: statsOn, sink: statsOn && withCallbacks ? sink : undefined, index });
      const after = serverSourceHash();
      if (before !== prov.serverSourceHash || after !== before) log(`WARNING: server source changed (hash ${prov.serverSourceHash} → ${before} → ${after}); this run is not comparable`);
      heraldRuns.push({ ...r, serverSource: before === after ? before : `${before}→${after}` });
      const p = r.push;
      log(
        `herald run ${run + 1} (statistics ${statsOn ? 'on' : 'off'}): ${p.exactlyOne}/${p.connected} devices got exactly the one message (missing ${p.missing}, duplicates ${p.duplicates}, other ${p.otherIds}); ` +
          `REST ${fmt(p.replyMs, 1)} ms, first ${fmt(p.firstMs, 1)} ms, last ${fmt(p.lastMs, 1)} ms → ${fmt(p.rateFromSend, 0)}/s (first → last ${fmt(p.rateFromFirst, 0)}/s); ` +
          `task done ${fmt(p.doneMs / 1000, 2)} s; server CPU ${fmt(p.serverCpuSeconds, 2)} s`,
      );
    }
    if (kinds.includes('bare')) {
      const p = await measureBare(run, cfg, devicesFile, log);
      bareRuns.push(p);
      log(
        `bare run ${run + 1}: ${p.exactlyOne}/${p.connected} devices got exactly the one message (missing ${p.missing}, duplicates ${p.duplicates}); ` +
          `REST ${fmt(p.replyMs, 1)} ms, first ${fmt(p.firstMs, 1)} ms, last ${fmt(p.lastMs, 1)} ms → ${fmt(p.rateFromSend, 0)}/s (first → last ${fmt(p.rateFromFirst, 0)}/s); server CPU ${fmt(p.serverCpuSeconds, 2)} s`,
      );
    }
  }
  await sink.stop();
} catch (err) {
  killAll();
  console.error('bench failed:', err);
  process.exit(1);
}
closeAgent();

// the usual report reads the runs with statistics as configured (on, unless --statistics off)
const main = heraldRuns.filter((r) => r.statistics === (statistics !== 'off'));
const a = aims(main, bareRuns);
printReport(main, bareRuns, cfg, a);
if (statistics === 'compare') console.log(`\n${statisticsTable(heraldRuns, withCallbacks)}`);
const sources = new Set(heraldRuns.map((r) => r.serverSource));
if (heraldRuns.length) {
  console.log(`\nServer measured: commit ${prov.commit}${prov.uncommitted.length ? ' with uncommitted changes in packages/' : ''}, source hash ${[...sources].join(', ')}`);
  if (sources.size > 1 || [...sources][0] !== prov.serverSourceHash) console.log('WARNING: the server source changed during the benchmark; the Herald runs measured different code.');
}

fs.mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `fanout-${started.toISOString().replace(/[:.]/g, '-')}.json`);
const command = `npm run bench:fanout -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
const seedSummary = seed && { sdkAppId: seed.sdkAppId, rows: seed.rows, seedMs: seed.seedMs, seededAt: seed.seededAt, reused: seed.reused, modelVersion: seed.modelVersion, migrationsHash: seed.migrationsHash };
fs.writeFileSync(
  file,
  JSON.stringify({ command, started: started.toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemGiB: os.totalmem() / 2 ** 30, config: cfg, seed: seedSummary, server: prov, aims: a, herald: heraldRuns, bare: bareRuns }, null, 2),
);
console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
disarm();

// Wrong answers fail the run, whatever the timings.
const wrong = [
  ...heraldRuns.flatMap((r) => r.audience.filter((x) => !x.correct).map((x) => `run ${r.run}: ${x.label} AudienceCount ${x.counts.join('/')}, expected ${x.expected}`)),
  ...[...heraldRuns.map((r) => r.push), ...bareRuns]
    .filter((p) => p.exactlyOne !== p.connected || p.duplicates > 0 || p.otherIds > 0)
    .map((p) => `${p.server} run ${p.run}: ${p.exactlyOne}/${p.connected} devices got exactly one message (missing ${p.missing}, duplicates ${p.duplicates}, other ids ${p.otherIds})`),
];
if (wrong.length) {
  console.error(`\nFAIL:\n  ${wrong.join('\n  ')}`);
  process.exit(1);
}
