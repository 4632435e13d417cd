/**
 * The SIGKILL soak (`npm run bench:crash`): a larger, seeded version of vendor-crash.e2e.test.ts.
 * Herald runs as its own process with thousands of offline Xiaomi devices; each run sends a batch
 * push or an all-users push and kills the process at a point drawn from the seed (right after the
 * push was accepted, while the k-th vendor request is in flight, as the k-th is answered, or after a
 * delay), starts it again, and waits for the push to finish. It reports, per run, the devices never
 * sent (must be 0), the repeated sends and how long recovery took, and exits 1 if any device was
 * never sent. Traffic stays on loopback; every run is bounded in time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { XiaomiEmulator } from '@herald/emulators';
import { register } from '../../packages/server/src/registry/registration.js';
import { apps, openStore, type App } from '../../packages/server/src/store/index.js';
import { admin } from '../../packages/server/test/helpers/herald.js';
import { freePort, kill, startHeraldProcess, waitReady } from '../../packages/server/test/helpers/herald-process.js';
import { numberOption } from '../options.js';
import { Random } from '../fuzz/prng.js';
import { log, runDeadline, scratchDir } from '../work.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '3000' },
    runs: { type: 'string', default: '12' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '500' },
    dialect: { type: 'string', default: 'sqlite' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    timeout: { type: 'string', default: '900' },
  },
});
const DEVICES = numberOption(values, 'devices', 10, 200_000, true);
const RUNS = numberOption(values, 'runs', 1, 1000, true);
const SEED = numberOption(values, 'seed', 0, 2 ** 31, true);
const BATCH = Math.min(DEVICES, numberOption(values, 'batch', 1, 500, true));
if (values.dialect !== 'sqlite' && values.dialect !== 'postgres') throw new Error('--dialect must be sqlite or postgres');
const disarm = runDeadline(numberOption(values, 'timeout', 10, 86_400));

const random = new Random(SEED);
const pick = (n: number) => random.int(n);

type KillPoint = { at: 'accepted' } | { at: 'in-flight'; request: number } | { at: 'answered'; request: number } | { at: 'delay'; ms: number };
const describe = (k: KillPoint) => (k.at === 'accepted' ? 'right after accepted' : k.at === 'delay' ? `after ${k.ms} ms` : `request ${k.request} ${k.at}`);

const work = scratchDir(path.join(os.tmpdir(), 'herald-bench-crash'));
const schema = `crash_${process.pid}`;
const databaseUrl = values.dialect === 'postgres' ? `${values.pg}?schema=${schema}` : undefined;
const emu = new XiaomiEmulator();
await emu.start();
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const env = {
  HERALD_PORT: String(port),
  HERALD_HOST: '127.0.0.1',
  HERALD_DATA_DIR: work,
  ...(databaseUrl ? { HERALD_DATABASE_URL: databaseUrl } : {}),
  HERALD_TASK_LEASE_SECONDS: '1',
  HERALD_FANOUT_SHARD_SIZE: '500',
  HERALD_STATISTICS: 'on',
};

// The app, its certificate and the devices go straight into the store: the device API would add
// a round trip per device, which is not what this measures.
const store = await openStore({ dataDir: work, databaseUrl });
const app: App = await apps.createApp(store.db, 'crash');
const tokens: string[] = [];
const regIds: string[] = [];
for (let start = 0; start < DEVICES; start += 500) {
  await store.db.transaction().execute(async (tx) => {
    for (let i = start; i < Math.min(DEVICES, start + 500); i++) {
      const token = `mi-${i}`;
      const r = await register(tx, app.sdkAppId, { installId: `crash-install-${i}`, platform: 'android', fields: { vendor: 'xiaomi', token } });
      if (!r.ok) throw new Error(`seeding device ${i} failed`);
      tokens.push(token);
      regIds.push(r.registrationId);
    }
  });
}
await store.close();
const tokenOf = new Map(regIds.map((r, i) => [r, tokens[i]!]));

let child: ChildProcess = startHeraldProcess(env);
await waitReady(url);
const cert = await admin(url, app, 'set_certificate', { Vendor: 'xiaomi', Name: 'mi', Config: { ...emu.app('com.example.crash'), baseUrl: emu.base } });
if (cert.ActionStatus !== 'OK') throw new Error(`set_certificate: ${JSON.stringify(cert)}`);
log(`${DEVICES} offline Xiaomi devices on ${values.dialect}, seed ${SEED}`);

const sentFor = (taskId: string) => emu.received.filter((r) => (JSON.parse(r.fields.payload ?? '{}') as { id?: string }).id === taskId).flatMap((r) => r.regIds);

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** `wait`, or 30 s, whichever comes first: a kill point the push never reaches must not hang the run. */
async function bounded(wait: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([wait, new Promise<void>((r) => (timer = setTimeout(r, 30_000)))]);
  clearTimeout(timer);
}

interface RunResult {
  kind: string;
  point: string;
  targets: number;
  neverSent: number;
  repeats: number;
  recoveryMs: number;
  status: string;
}
const results: RunResult[] = [];

for (let run = 0; run < RUNS; run++) {
  const batch = random.chance(0.4);
  const targets = batch ? Array.from({ length: BATCH }, () => regIds[pick(regIds.length)]!) : regIds;
  const wanted = new Set(targets.map((r) => tokenOf.get(r)!));
  const requests = Math.ceil(wanted.size / 100);
  const points: KillPoint[] = [{ at: 'accepted' }, { at: 'in-flight', request: 1 + pick(requests) }, { at: 'answered', request: 1 + pick(requests) }, { at: 'delay', ms: pick(400) }];
  const point = points[pick(points.length)]!;
  const arrived = emu.arrivals;
  const answered = emu.answers;
  const release = point.at === 'accepted' ? emu.hold() : null;
  const body = { From_Account: 'administrator', MsgRandom: 1000 + run, OfflinePushInfo: { PushFlag: 0, Title: `crash ${run}`, Desc: describe(point) } };
  const r = await admin(url, app, batch ? 'batch' : 'push', batch ? { ...body, To_Account: [...new Set(targets)] } : body);
  if (r.ActionStatus !== 'OK') throw new Error(`push: ${JSON.stringify(r)}`);
  // the emulator's own waits resolve as the request arrives or is answered; polling would be late
  if (point.at === 'in-flight') {
    await bounded(emu.arrived(arrived + point.request - 1));
    const held = emu.hold();
    await bounded(emu.arrived(arrived + point.request));
    await kill(child);
    held();
  } else if (point.at === 'answered') {
    await bounded(emu.answered(answered + point.request));
  } else if (point.at === 'delay') {
    await new Promise((res) => setTimeout(res, point.ms));
  }
  await kill(child);
  release?.();
  const killedAt = Date.now();
  child = startHeraldProcess(env);
  await waitReady(url);
  const finished = batch ? 'routed' : 'done';
  let status = '';
  await until(async () => {
    const got = new Set(sentFor(r.TaskId as string));
    if ([...wanted].some((t) => !got.has(t))) return false;
    status = ((await admin(url, app, 'get_push_task', { TaskId: r.TaskId })).Task as { Status: string }).Status;
    return status === finished;
  }, 60_000);
  const sent = sentFor(r.TaskId as string);
  const got = new Set(sent);
  const result = { kind: batch ? 'batch' : 'all users', point: describe(point), targets: wanted.size, neverSent: [...wanted].filter((t) => !got.has(t)).length, repeats: sent.filter((t) => wanted.has(t)).length - got.size, recoveryMs: Date.now() - killedAt, status };
  results.push(result);
  log(`run ${run + 1}/${RUNS}: ${result.kind}, killed ${result.point}: ${result.neverSent} of ${result.targets} never sent, ${result.repeats} repeated, ${result.status} after ${result.recoveryMs} ms`);
}

await kill(child);
await emu.stop();
if (databaseUrl) {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: values.pg });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
}
disarm();

console.log(`\n| run | push | killed | devices | never sent | repeated | status | recovery (ms) |\n| ---: | --- | --- | ---: | ---: | ---: | --- | ---: |`);
results.forEach((x, i) => console.log(`| ${i + 1} | ${x.kind} | ${x.point} | ${x.targets} | ${x.neverSent} | ${x.repeats} | ${x.status} | ${x.recoveryMs} |`));
const lost = results.reduce((n, x) => n + x.neverSent, 0);
console.log(`\n${results.length} runs, seed ${SEED}, ${values.dialect}: ${lost} devices never sent, ${results.reduce((n, x) => n + x.repeats, 0)} repeated sends`);
fs.rmSync(work, { recursive: true, force: true });
process.exit(lost === 0 && results.every((x) => x.status === (x.kind === 'batch' ? 'routed' : 'done')) ? 0 : 1);
