/**
 * One measured run of one server, driven from the orchestrator. Herald: a copy of the seeded store,
 * DryRun audience counts timed through the admin API, then the connected devices and one all-users
 * push. The bare `ws` baseline: the same devices and one `/broadcast` of the same body.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from '../gateway/child.js';
import type { ClientStart, LoadSample } from '../gateway/protocol.js';
import { median, nowMs, percentileSorted } from '../gateway/stats.js';
import { ADMIN, AdminApi, httpGet, postJson, TimCallError, type TimReply } from './admin.js';
import type { AudienceCase } from './model.js';
import type { ClientProgress, FanoutReport } from './protocol.js';
import { copyStore, type SeedInfo } from './seed.js';
import type { CallbackSink } from './callback-sink.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const gatewayDir = path.resolve(here, '../gateway');

export type Kind = 'herald' | 'bare';

export interface FanoutConfig {
  devices: number;
  connected: number;
  runs: number;
  /** DryRun calls per condition and run. */
  calls: number;
  clients: number;
  /** Longest wait for one push's deliveries and task (s). */
  pushTimeout: number;
  settle: number;
  timeout: number;
  cpuProf: boolean;
}

export interface AudienceResult {
  label: string;
  condition: Record<string, unknown>;
  expected: number;
  /** AudienceCount of each call. */
  counts: number[];
  ms: number[];
  medianMs: number;
  /** The first call of this condition in the run (cold caches). */
  firstMs: number;
  correct: boolean;
}

export interface PushResult {
  server: Kind;
  run: number;
  connected: number;
  connectMs: number;
  taskId: string;
  /** REST call (all-users push / broadcast) to its answer. */
  replyMs: number;
  /** From the REST send to the first / last device receipt, and percentiles over all devices. */
  firstMs: number;
  lastMs: number;
  p50Ms: number;
  p99Ms: number;
  delivered: number;
  /** Deliveries per second to connected devices: delivered ÷ (last − send), and ÷ (last − first). */
  rateFromSend: number;
  rateFromFirst: number;
  /** Herald: send → get_push_task first said Status "done"; NaN when not seen (or not served). */
  doneMs: number;
  /** Herald: the last Task object get_push_task returned, or why there is none. */
  task?: unknown;
  exactlyOne: number;
  missing: number;
  duplicates: number;
  otherIds: number;
  unexpectedCloses: number;
  frameBytes: number;
  /** Server CPU time and event-loop busy share from just before the push until it was complete. */
  serverCpuSeconds: number;
  serverCpuPct: number;
  serverEventLoopPct: number;
  /** Event-loop delay over the same window; 0 when the loop was blocked throughout (no sample was taken). */
  serverLoopDelayMaxMs: number;
  /** Longest answer to an HTTP call made every 200 ms while the push went out (Herald: get_push_task; bare: GET /healthz). */
  probeMaxMs: number;
  probes: number;
  /** CLOCK_MONOTONIC µs (the clock of --cpu-prof samples) at the push and when it was complete: the window to read in a profile. */
  monoWindowUs: [number, number];
}

/** Herald with statistics off (HERALD_STATISTICS=off), or on with the app's callbacks posted to a sink. */
export interface HeraldVariant {
  statistics: boolean;
  sink?: CallbackSink;
  /** Which of the run's pushes this is (0 or 1): each has its own client addresses. */
  index?: number;
}

/** How far the statistics and callbacks of the push trailed its delivery. */
export interface StatsLag {
  /** Devices the funnel counted sendable when the push phase ended (task done, every device reported), and the whole count expected. */
  sendableAtEnd: number;
  expectedSendable: number;
  /** From the end of the push phase until the funnel counted every device sendable (s); NaN if not within 120 s. */
  countsLagS: number;
  /** Events the sink got for the task, those expected, and from the end of the push phase to the last of them (s). */
  callbackEvents: number;
  /** Events the sink had already got when the push phase ended: posted while the push was being delivered. */
  callbackEventsAtEnd: number;
  expectedEvents: number;
  callbacksLagS: number;
}

export interface HeraldRun {
  run: number;
  statistics: boolean;
  /** 0: the run's first push, 1: its second (absent in results recorded before the order alternated). */
  index?: number;
  startMs: number;
  audience: AudienceResult[];
  push: PushResult;
  lag?: StatsLag;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Loopback source addresses per server, run and push (127.0.3.x Herald, 127.0.4.x baseline; the
 * gateway benchmark uses 127.0.1/2.x), two per client process, so no push meets another's TIME_WAIT
 * ports. `slot` is run × 2 + the push's index in the run.
 */
function clientAddresses(kind: Kind, slot: number, client: number): string[] {
  const net = kind === 'herald' ? '127.0.3' : '127.0.4';
  const base = slot * 8 + 1 + 2 * client;
  return [`${net}.${base}`, `${net}.${base + 1}`];
}

/** The body of the all-users push (no Condition, PushFlag 0): same bytes to Herald and the baseline. */
function allUsersBody(msgRandom: number): Record<string, unknown> {
  return {
    From_Account: ADMIN,
    MsgRandom: msgRandom,
    OfflinePushInfo: { PushFlag: 0, Title: 'Fan-out benchmark', Desc: 'One message to every user of the app', Ext: JSON.stringify({ page: 'bench', n: msgRandom }) },
  };
}

interface PushTrigger {
  /** Sends the push; resolves with its id and answer time. */
  send(): Promise<{ taskId: string; replyMs: number }>;
  /** Herald: whether the task is complete (polled until it says so); absent for the baseline. */
  done?(taskId: string): Promise<{ done: boolean; task?: unknown; unsupported?: boolean }>;
  /** The baseline: any cheap HTTP call, to see how long the server takes to answer while it sends. */
  probe?(): Promise<void>;
}

/** Connects the devices, sends one push, waits until it is delivered (and done), collects the receipts. */
async function pushPhase(kind: Kind, run: number, slot: number, cfg: FanoutConfig, server: Child, url: string, sdkAppId: number, devicesFile: string, trigger: PushTrigger, children: Child[], log: (s: string) => void): Promise<PushResult> {
  const t0 = performance.now();
  const clients = Array.from({ length: cfg.clients }, (_, i) => {
    const c = new Child(`${kind}-client${i + 1}`, path.join(here, 'clients.ts'), [], []);
    children.push(c);
    const start: ClientStart = {
      cmd: 'start',
      wsUrl: url.replace(/^http/, 'ws') + '/gateway/v1',
      sdkAppId,
      devicesFile,
      from: Math.floor((i * cfg.connected) / cfg.clients),
      to: Math.floor(((i + 1) * cfg.connected) / cfg.clients),
      localAddresses: clientAddresses(kind, slot, i),
      concurrency: 64,
      timeoutMs: 180_000,
    };
    c.post(start);
    return c;
  });
  const connected = await Promise.all(clients.map((c) => c.waitFor('connected', 200_000)));
  const connectMs = performance.now() - t0;
  const ready = connected.reduce((s, e) => s + Number(e.ready), 0);
  const notReady = connected.reduce((s, e) => s + Number(e.failed), 0);
  if (notReady > 0) throw new Error(`${kind}: ${notReady} devices did not get ready: ${String(connected.find((e) => e.firstError)?.firstError)}`);
  log(`${kind} run ${run + 1}: ${ready} devices ready in ${(connectMs / 1000).toFixed(1)} s; settling ${cfg.settle} s`);
  await sleep(cfg.settle * 1000);
  const early = clients.reduce((s, c) => s + Number((c.last('progress') as ClientProgress | undefined)?.received ?? 0), 0);
  if (early > 0) throw new Error(`${kind}: ${early} devices received a message before the push`);

  const load0 = await server.call<LoadSample>('load');
  const monoUs = () => Number(process.hrtime.bigint() / 1000n);
  const monoSent = monoUs();
  const sentAt = nowMs();
  const { taskId, replyMs } = await trigger.send();
  log(`${kind} run ${run + 1}: push answered in ${replyMs.toFixed(1)} ms, TaskId ${taskId}`);

  // Wait, bounded, for every device's receipt and (Herald) for the task to say it is done.
  const deadline = Date.now() + cfg.pushTimeout * 1000;
  const received = () => clients.reduce((s, c) => s + Number((c.last('progress') as ClientProgress | undefined)?.received ?? 0), 0);
  let doneAt = NaN;
  let task: unknown;
  let polling = trigger.done !== undefined;
  let lastLog = Date.now();
  let probeMaxMs = 0;
  let probes = 0;
  const timed = async <T>(call: () => Promise<T>): Promise<T> => {
    const p0 = performance.now();
    const r = await call();
    probes++;
    probeMaxMs = Math.max(probeMaxMs, performance.now() - p0);
    return r;
  };
  while (Date.now() < deadline) {
    if (polling) {
      const d = await timed(() => trigger.done!(taskId));
      task = d.task ?? task;
      if (d.unsupported) {
        polling = false;
        log(`${kind} run ${run + 1}: get_push_task is not served (60009): task completion not measured`);
      } else if (d.done) {
        doneAt = nowMs();
        polling = false;
        log(`${kind} run ${run + 1}: task done ${((doneAt - sentAt) / 1000).toFixed(2)} s after the push`);
      }
    } else if (trigger.probe && received() < ready) {
      await timed(trigger.probe);
    }
    if (!polling && received() >= ready) break;
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log(`${kind} run ${run + 1}: ${received()} of ${ready} devices reached${polling ? `, task ${JSON.stringify((task as { Status?: unknown } | undefined)?.Status ?? '?')}` : ''}`);
    }
    await sleep(200);
  }
  if (polling) log(`${kind} run ${run + 1}: task not done within ${cfg.pushTimeout} s`);
  const monoComplete = monoUs();
  const load1 = await server.call<LoadSample>('load');
  await sleep(500); // a late duplicate would still be counted
  for (const c of clients) c.post({ cmd: 'report', taskId });
  const reports = (await Promise.all(clients.map((c) => c.waitFor('report', 30_000)))) as unknown as FanoutReport[];
  for (const c of clients) c.post({ cmd: 'stop' });
  await Promise.all(clients.map((c) => c.exitWithin(5000)));

  const receipts = Float64Array.from(reports.flatMap((r) => r.receipts)).sort();
  const first = receipts.length ? receipts[0]! : NaN;
  const last = receipts.length ? receipts[receipts.length - 1]! : NaN;
  const sum = (f: (r: FanoutReport) => number) => reports.reduce((s, r) => s + f(r), 0);
  const wall = load1.wallMs - load0.wallMs;
  const cpuMs = (load1.cpuUserUs - load0.cpuUserUs + load1.cpuSystemUs - load0.cpuSystemUs) / 1000;
  const eluActive = load1.eluActive - load0.eluActive;
  const eluIdle = load1.eluIdle - load0.eluIdle;
  return {
    server: kind,
    run: run + 1,
    connected: ready,
    connectMs,
    taskId,
    replyMs,
    firstMs: first - sentAt,
    lastMs: last - sentAt,
    p50Ms: percentileSorted(receipts, 50) - sentAt,
    p99Ms: percentileSorted(receipts, 99) - sentAt,
    delivered: receipts.length,
    rateFromSend: receipts.length / ((last - sentAt) / 1000),
    rateFromFirst: receipts.length / ((last - first) / 1000),
    doneMs: doneAt - sentAt,
    task,
    exactlyOne: sum((r) => r.exactlyOne),
    missing: sum((r) => r.missing),
    duplicates: sum((r) => r.duplicates),
    otherIds: sum((r) => r.otherIds),
    unexpectedCloses: sum((r) => r.unexpectedCloses),
    frameBytes: reports.find((r) => r.frameBytes > 0)?.frameBytes ?? 0,
    serverCpuSeconds: cpuMs / 1000,
    serverCpuPct: (cpuMs / wall) * 100,
    serverEventLoopPct: (eluActive / (eluActive + eluIdle)) * 100,
    serverLoopDelayMaxMs: load1.loopDelayMaxMs,
    probeMaxMs,
    probes,
    monoWindowUs: [monoSent, monoComplete],
  };
}

/** DryRun pushes, round-robin over the conditions `calls` times; each AudienceCount is checked. */
async function audiencePhase(api: AdminApi, cases: readonly AudienceCase[], expected: number[], calls: number): Promise<AudienceResult[]> {
  const out: AudienceResult[] = cases.map((c, i) => ({ label: c.label, condition: c.condition, expected: expected[i]!, counts: [], ms: [], medianMs: NaN, firstMs: NaN, correct: false }));
  for (let round = 0; round < calls; round++) {
    for (let i = 0; i < cases.length; i++) {
      const body = { From_Account: ADMIN, MsgRandom: api.nextRandom(), Condition: cases[i]!.condition, OfflinePushInfo: { PushFlag: 0, Title: 't', Desc: 'd' }, DryRun: 1 };
      const { reply, ms } = await api.ok('push', body);
      if (typeof reply.AudienceCount !== 'number') throw new Error(`DryRun push answered without AudienceCount: ${JSON.stringify(reply).slice(0, 300)}`);
      out[i]!.counts.push(reply.AudienceCount);
      out[i]!.ms.push(ms);
    }
  }
  for (const r of out) {
    r.medianMs = median(r.ms);
    r.firstMs = r.ms[0]!;
    r.correct = r.counts.every((n) => n === r.expected);
  }
  return out;
}

async function stopServer(server: Child, log: (s: string) => void): Promise<void> {
  await server.call('stop', {}, 30_000).catch((err: unknown) => log(`${server.name}: stop failed: ${String(err)}`));
  await server.exitWithin(10_000);
}

/** Herald on a fresh copy of the seeded store: audience timings, then the all-users push. */
export async function measureHerald(
  run: number,
  cfg: FanoutConfig,
  seed: SeedInfo,
  cases: readonly AudienceCase[],
  expected: number[],
  workDir: string,
  devicesFile: string,
  profDir: string,
  log: (s: string) => void,
  variant: HeraldVariant = { statistics: true },
): Promise<HeraldRun> {
  const dataDir = path.join(workDir, `herald-run${run + 1}-${variant.statistics ? 'stats' : 'nostats'}`);
  const children: Child[] = [];
  try {
    copyStore(seed, dataDir);
    const execArgv = cfg.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, `herald-run${run + 1}`)}`] : [];
    const t0 = performance.now();
    const server = new Child('herald', path.join(gatewayDir, 'herald-server.ts'), [dataDir], execArgv, { HERALD_STATISTICS: variant.statistics ? 'on' : 'off' });
    children.push(server);
    const { url } = (await server.waitFor('listening', 120_000)) as unknown as { url: string };
    const startMs = performance.now() - t0;
    log(`herald run ${run + 1}: started on a copy of the seeded store in ${(startMs / 1000).toFixed(1)} s`);
    const api = new AdminApi(url, seed.sdkAppId, seed.secretKey);
    if (variant.sink) await api.ok('set_callback', { Url: variant.sink.url, Token: 'bench-callback-token' });

    const audience = await audiencePhase(api, cases, expected, cfg.calls);
    for (const a of audience) {
      log(`herald run ${run + 1}: DryRun ${a.label}: AudienceCount ${a.counts.join('/')} (expected ${a.expected}${a.correct ? '' : ' — WRONG'}), median ${a.medianMs.toFixed(1)} ms, first ${a.firstMs.toFixed(1)} ms`);
    }

    const trigger: PushTrigger = {
      async send() {
        const { reply, ms } = await api.ok('push', allUsersBody(api.nextRandom()));
        if (typeof reply.TaskId !== 'string') throw new Error(`all-users push answered without TaskId: ${JSON.stringify(reply).slice(0, 300)}`);
        return { taskId: reply.TaskId, replyMs: ms };
      },
      async done(taskId) {
        const { reply } = await api.call('get_push_task', { TaskId: taskId });
        if (reply.ErrorCode === 60009) return { done: false, unsupported: true, task: 'get_push_task not served (60009)' };
        if (reply.ActionStatus !== 'OK') throw new TimCallError('get_push_task', reply);
        const t = reply.Task as { Status?: unknown } | undefined;
        return { done: t?.Status === 'done', task: t };
      },
    };
    const push = await pushPhase('herald', run, run * 2 + (variant.index ?? 0), cfg, server, url, seed.sdkAppId, devicesFile, trigger, children, log);
    const lag = variant.statistics ? await statsLag(api, cfg, push, variant.sink, log) : undefined;
    await stopServer(server, log);
    return { run: run + 1, statistics: variant.statistics, index: variant.index ?? 0, startMs, audience, push, lag };
  } finally {
    for (const c of children) c.kill();
    // wait for them to be gone, or a dying server could recreate files in the folder being removed
    await Promise.all(children.map((c) => c.exitWithin(5000)));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * After the push: how long until the funnel counts every device (each connected device once on the
 * gateway, each offline one once on the vendor channel) and the sink has every event (per connected
 * device sent and reached; per offline device its vendor-channel outcome), polled every 200 ms.
 */
async function statsLag(api: AdminApi, cfg: FanoutConfig, push: PushResult, sink: CallbackSink | undefined, log: (s: string) => void): Promise<StatsLag> {
  const sendable = async () => {
    const { reply } = await api.call('get_push_task', { TaskId: push.taskId });
    return Number((reply.Task as { Funnel?: { Sendable?: number } } | undefined)?.Funnel?.Sendable ?? 0);
  };
  const expectedSendable = cfg.devices;
  const expectedEvents = 2 * cfg.connected + (cfg.devices - cfg.connected);
  const t0 = nowMs();
  const sendableAtEnd = await sendable();
  let countsAt = sendableAtEnd >= expectedSendable ? t0 : NaN;
  const callbackEventsAtEnd = sink?.events(push.taskId) ?? 0;
  let eventsAt = !sink || callbackEventsAtEnd >= expectedEvents ? t0 : NaN;
  const deadline = t0 + 120_000;
  while ((Number.isNaN(countsAt) || Number.isNaN(eventsAt)) && nowMs() < deadline) {
    await sleep(200);
    if (Number.isNaN(countsAt) && (await sendable()) >= expectedSendable) countsAt = nowMs();
    if (Number.isNaN(eventsAt) && sink && sink.events(push.taskId) >= expectedEvents) eventsAt = sink.lastAt;
  }
  const lag: StatsLag = {
    sendableAtEnd,
    expectedSendable,
    countsLagS: (countsAt - t0) / 1000,
    callbackEvents: sink?.events(push.taskId) ?? 0,
    callbackEventsAtEnd,
    expectedEvents: sink ? expectedEvents : 0,
    callbacksLagS: sink ? (eventsAt - t0) / 1000 : NaN,
  };
  log(`herald statistics: ${lag.sendableAtEnd}/${expectedSendable} counted at the end of the push phase, all after ${lag.countsLagS.toFixed(2)} s; callbacks ${lag.callbackEvents}/${lag.expectedEvents} events (${callbackEventsAtEnd} of them during the push), all after ${lag.callbacksLagS.toFixed(2)} s`);
  return lag;
}

/** The bare `ws` server holding the same devices, and one `/broadcast` of the same body. */
export async function measureBare(run: number, cfg: FanoutConfig, devicesFile: string, log: (s: string) => void): Promise<PushResult> {
  const children: Child[] = [];
  try {
    const server = new Child('bare', path.join(gatewayDir, 'bare-server.ts'), [devicesFile], []);
    children.push(server);
    const { url } = (await server.waitFor('listening', 60_000)) as unknown as { url: string };
    let random = Math.floor(Math.random() * 2 ** 31);
    const trigger: PushTrigger = {
      async send() {
        const { reply, ms } = await postJson<TimReply>(`${url}/broadcast?contenttype=json`, allUsersBody(++random));
        if (reply.ActionStatus !== 'OK' || typeof reply.TaskId !== 'string') throw new Error(`bare /broadcast answered ${JSON.stringify(reply).slice(0, 300)}`);
        return { taskId: reply.TaskId, replyMs: ms };
      },
      probe: () => httpGet(`${url}/healthz`),
    };
    const push = await pushPhase('bare', run, run * 2, cfg, server, url, 1, devicesFile, trigger, children, log);
    await stopServer(server, log);
    return push;
  } finally {
    for (const c of children) c.kill();
    await Promise.all(children.map((c) => c.exitWithin(5000)));
  }
}
