/** One measured run of one server (Herald or the bare baseline), driven from the orchestrator. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedBare } from './bare-seed.js';
import { Child } from './child.js';
import type { ClientReport, ClientStart, LoadSample, MemSample, PusherDone, PusherStart, SeedResult } from './protocol.js';
import { summarize, type Summary } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const resultsDir = path.resolve(here, '../results');

export type Kind = 'herald' | 'bare';

export interface BenchConfig {
  devices: number;
  rate: number;
  seconds: number;
  warmup: number;
  runs: number;
  settle: number;
  timeout: number;
  clients: number;
  cpuProf: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Distinct loopback source addresses per server and run, so no run inherits another's TIME_WAIT
 * ports: 127.0.1.x for Herald, 127.0.2.x for the baseline, 20 addresses per run (2 per client
 * process, at most 8 clients, and one for the pusher).
 */
function addresses(kind: Kind, run: number): { client: (i: number) => string[]; pusher: string } {
  const net = kind === 'herald' ? '127.0.1' : '127.0.2';
  const base = run * 20 + 1;
  return {
    client: (i) => [`${net}.${base + 2 * i}`, `${net}.${base + 2 * i + 1}`],
    pusher: `${net}.${base + 19}`,
  };
}

export interface RunResult {
  server: Kind;
  run: number;
  devices: number;
  seedMs: number;
  connectMs: number;
  memBefore: MemSample;
  memAfter: MemSample;
  rssPerDeviceKiB: number;
  heapPerDeviceKiB: number;
  memHalf: MemSample;
  /** Per device connected in the second half (between N/2 and N). */
  rssSecondHalfKiB: number;
  heapSecondHalfKiB: number;
  sent: number;
  accepted: number;
  failed: number;
  firstError?: string;
  sendRate: number;
  /** Accepted pushes per second, first send to last answer: what the server kept up with. */
  acceptRate: number;
  latencyMs: Summary;
  lost: number;
  /** Pushes sent after warm-up that no device received within the run (failed or too slow). */
  undelivered: number;
  duplicates: number;
  unexpectedCloses: number;
  replyMs: Summary;
  serverCpuPct: number;
  serverEventLoopPct: number;
  serverLoopDelayP99Ms: number;
  serverLoopDelayMaxMs: number;
}

/** One server, one run: seed, start, connect every device, sample memory, push, collect. */
export async function measure(kind: Kind, run: number, cfg: BenchConfig, log: (s: string) => void): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `herald-bench-${kind}-`));
  const children: Child[] = [];
  try {
    const execArgv = ['--expose-gc'];
    // One folder per server and run: Node writes a profile per thread (tsx's loader has its own).
    if (cfg.cpuProf) execArgv.push('--cpu-prof', `--cpu-prof-dir=${path.join(resultsDir, 'prof', `${kind}-run${run + 1}`)}`);
    // Seed first, outside the server process, so its "before" memory holds no seeding garbage.
    const dataDir = path.join(dir, 'data');
    let seeded: SeedResult;
    if (kind === 'herald') {
      const seeder = new Child('herald-seed', path.join(here, 'herald-seed.ts'), [dataDir, String(cfg.devices), dir], []);
      children.push(seeder);
      seeded = (await seeder.waitFor('seeded', 300_000)) as unknown as SeedResult;
      await seeder.exitWithin(10_000);
    } else {
      seeded = seedBare(cfg.devices, dir);
    }
    log(`${kind} run ${run + 1}: ${cfg.devices} devices seeded in ${(seeded.seedMs / 1000).toFixed(1)} s`);
    const script = path.join(here, kind === 'herald' ? 'herald-server.ts' : 'bare-server.ts');
    const server = new Child(kind, script, [kind === 'herald' ? dataDir : seeded.devicesFile], execArgv);
    children.push(server);
    const { url } = (await server.waitFor('listening', 60_000)) as unknown as { url: string };
    await sleep(1000);
    const memBefore = await server.call<MemSample>('mem');

    // Connect every device, split evenly over the client processes.
    const addr = addresses(kind, run);
    const t0 = performance.now();
    const clients = Array.from({ length: cfg.clients }, (_, i) => {
      const c = new Child(`${kind}-client${i + 1}`, path.join(here, 'clients.ts'), [], []);
      children.push(c);
      const start: ClientStart = {
        cmd: 'start',
        wsUrl: url.replace(/^http/, 'ws') + '/gateway/v1',
        sdkAppId: seeded.sdkAppId,
        devicesFile: seeded.devicesFile,
        from: Math.floor((i * cfg.devices) / cfg.clients),
        to: Math.floor(((i + 1) * cfg.devices) / cfg.clients),
        localAddresses: addr.client(i),
        concurrency: 64,
        timeoutMs: 180_000,
      };
      c.post(start);
      return c;
    });
    // Half-way sample: memory per device between N/2 and N connected leaves out start-up and
    // warm-up costs, a steadier figure next to the one from zero.
    const halves = await Promise.all(clients.map((c) => c.waitFor('half', 200_000)));
    const halfCount = halves.reduce((s, e) => s + Number(e.ready), 0);
    const pauseStart = performance.now();
    await sleep(cfg.settle * 1000);
    const memHalf = await server.call<MemSample>('mem');
    const pausedMs = performance.now() - pauseStart;
    for (const c of clients) c.post({ cmd: 'resume' });
    const connected = await Promise.all(clients.map((c) => c.waitFor('connected', 200_000)));
    const connectMs = performance.now() - t0 - pausedMs;
    const notReady = connected.reduce((s, e) => s + Number(e.failed), 0);
    if (notReady > 0) throw new Error(`${notReady} devices did not get ready: ${String(connected.find((e) => e.firstError)?.firstError)}`);
    log(`${kind} run ${run + 1}: all ${cfg.devices} devices ready in ${(connectMs / 1000).toFixed(1)} s; settling ${cfg.settle} s`);
    await sleep(cfg.settle * 1000);
    const memAfter = await server.call<MemSample>('mem');

    // Latency phase: one steady stream; the first `warmup` seconds are not counted in latency.
    const warmupCount = Math.round(cfg.warmup * cfg.rate);
    const total = warmupCount + Math.round(cfg.seconds * cfg.rate);
    const pusher = new Child(`${kind}-pusher`, path.join(here, 'pusher.ts'), [], []);
    children.push(pusher);
    const load0 = await server.call<LoadSample>('load');
    const pusherStart: PusherStart = {
      cmd: 'start',
      baseUrl: url,
      pushPath: seeded.pushPath,
      devicesFile: seeded.devicesFile,
      rate: cfg.rate,
      total,
      localAddress: addr.pusher,
      maxSockets: 256,
      // Answers later than 30 s after the last send count as not delivered (infinite latency).
      timeoutMs: (total / cfg.rate) * 1000 + 30_000,
    };
    pusher.post(pusherStart);
    const done = (await pusher.waitFor('done', pusherStart.timeoutMs + 10_000)) as unknown as PusherDone;
    const load1 = await server.call<LoadSample>('load');

    // Drain: wait (bounded) until the clients have seen every accepted push.
    const drainUntil = Date.now() + 10_000;
    const received = () => clients.reduce((s, c) => s + Number(c.last('progress')?.received ?? 0), 0);
    while (received() < done.accepted.length && Date.now() < drainUntil) await sleep(100);
    for (const c of clients) c.post({ cmd: 'report' });
    const reports = (await Promise.all(clients.map((c) => c.waitFor('report', 30_000)))) as unknown as ClientReport[];

    const latencyByNum = new Map<number, number>();
    for (const r of reports) r.nums.forEach((n, i) => latencyByNum.set(n, r.latencies[i]!));
    const replyByNum = new Map<number, number>(done.accepted.map((n, i) => [n, done.replyMs[i]!]));
    const lost = done.accepted.filter((n) => !latencyByNum.has(n)).length;
    // Every push sent after warm-up counts; one that never reached its device (or whose call was
    // never answered) counts as infinitely late, so an overloaded server cannot look fast by
    // dropping or stalling its slowest pushes.
    const measured: number[] = [];
    const replies: number[] = [];
    for (let n = warmupCount; n < done.sent; n++) {
      measured.push(latencyByNum.get(n) ?? Infinity);
      replies.push(replyByNum.get(n) ?? Infinity);
    }
    const undelivered = measured.filter((ms) => ms === Infinity).length;
    const wall = load1.wallMs - load0.wallMs;
    const eluActive = load1.eluActive - load0.eluActive;
    const eluIdle = load1.eluIdle - load0.eluIdle;

    for (const c of clients) c.post({ cmd: 'stop' });
    await Promise.all(clients.map((c) => c.exitWithin(5000)));
    await server.call('stop', {}, 30_000).catch((err: unknown) => log(`${kind}: stop failed: ${String(err)}`));
    await server.exitWithin(10_000);

    return {
      server: kind,
      run: run + 1,
      devices: cfg.devices,
      seedMs: seeded.seedMs,
      connectMs,
      memBefore,
      memAfter,
      rssPerDeviceKiB: (memAfter.rss - memBefore.rss) / cfg.devices / 1024,
      heapPerDeviceKiB: (memAfter.heapUsed - memBefore.heapUsed) / cfg.devices / 1024,
      memHalf,
      rssSecondHalfKiB: (memAfter.rss - memHalf.rss) / (cfg.devices - halfCount) / 1024,
      heapSecondHalfKiB: (memAfter.heapUsed - memHalf.heapUsed) / (cfg.devices - halfCount) / 1024,
      sent: done.sent,
      accepted: done.accepted.length,
      failed: done.failed,
      firstError: done.firstError,
      sendRate: done.sent / (done.sendSpanMs / 1000),
      acceptRate: done.accepted.length / (done.answerSpanMs / 1000),
      latencyMs: summarize(measured),
      lost,
      undelivered,
      duplicates: reports.reduce((s, r) => s + r.duplicates, 0),
      unexpectedCloses: reports.reduce((s, r) => s + r.unexpectedCloses, 0),
      replyMs: summarize(replies),
      serverCpuPct: ((load1.cpuUserUs - load0.cpuUserUs + load1.cpuSystemUs - load0.cpuSystemUs) / 1000 / wall) * 100,
      serverEventLoopPct: (eluActive / (eluActive + eluIdle)) * 100,
      serverLoopDelayP99Ms: load1.loopDelayP99Ms,
      serverLoopDelayMaxMs: load1.loopDelayMaxMs,
    };
  } finally {
    for (const c of children) c.kill();
    // wait for them to be gone, or a dying server could recreate files in the folder being removed
    await Promise.all(children.map((c) => c.exitWithin(5000)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
