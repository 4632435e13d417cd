/**
 * One measured run of the offline benchmark: emulator host(s) started, a fresh store seeded with
 * their Web Push subscriptions, Herald started on it with one certificate per vendor pointing at
 * the emulators, one all-users push, then polled until every emulator has counted its share and
 * the task is done (or counts stop moving, or the time is up).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from '../gateway/child.js';
import type { LoadSample } from '../gateway/protocol.js';
import { AdminApi, ADMIN, TimCallError } from '../fanout/admin.js';
import { BENCH_VENDORS, type BenchVendor, type Shares, type VendorCount } from './plan.js';
import { seedOffline } from './seed.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const gatewayDir = path.resolve(here, '../gateway');

export interface OfflineConfig {
  devices: number;
  webPush: number;
  apnsOnly: boolean;
  /** Emulator processes; the vendors are split between them. */
  emulatorProcs: number;
  /** HERALD_VENDOR_CONCURRENCY for Herald; undefined = Herald's default. */
  vendorConcurrency?: number;
  pushTimeout: number;
  /** Seconds counts must stand still, once the task is done, before a short run is called over. */
  settle: number;
  timeout: number;
  cpuProf: boolean;
}

/** A run's variant: its label and what its certificates add to the emulators' configs. */
export interface Variant {
  label: string;
  certExtra: Partial<Record<BenchVendor, Record<string, unknown>>>;
}

export interface VendorRow {
  vendor: BenchVendor;
  seeded: number;
  /** Devices the emulator accepted (a device in two requests counts twice), and distinct tokens. */
  received: number;
  distinct: number;
  requests: number;
  /** Herald's own count: get_push_task's Vendors[].Sent. */
  heraldSent: number;
  /** Push sent → this emulator's first and last accepted request, ms. */
  firstMs: number;
  lastMs: number;
  /** received ÷ (last − push sent). */
  perSecond: number;
}

export interface ProcessCpu {
  process: string;
  vendors: string;
  cpuSeconds: number;
  /** Share of one core over push sent → complete. */
  cpuPct: number;
  /** Event loop busy share over the same window, and its longest delay. */
  eventLoopPct: number;
  loopDelayMaxMs: number;
}

export interface OfflineRun {
  label: string;
  devices: number;
  seedMs: number;
  taskId: string;
  replyMs: number;
  /** Push sent → get_push_task said done; NaN when not seen. */
  doneMs: number;
  /** Push sent → the last emulator's last accepted request. */
  lastMs: number;
  received: number;
  /** Vendor sends per second: every emulator's accepted devices ÷ lastMs. */
  perSecond: number;
  /** Every emulator counted its whole share exactly once. */
  complete: boolean;
  vendors: VendorRow[];
  losses: { ErrCode: number; ErrInfo: string; Stage: string; Count: number }[];
  task: unknown;
  cpu: ProcessCpu[];
  monoWindowUs: [number, number];
}

interface TaskReply {
  Status?: string;
  Losses?: OfflineRun['losses'];
  Vendors?: { Vendor: string; Sent: number; Reached: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The vendors split over `procs` hosts, alternating, so each host gets per-device and batch vendors alike. */
function hostGroups(vendors: BenchVendor[], procs: number): BenchVendor[][] {
  const groups: BenchVendor[][] = Array.from({ length: Math.min(procs, vendors.length) }, () => []);
  vendors.forEach((v, i) => groups[i % groups.length]!.push(v));
  return groups;
}

export async function measureOffline(run: number, variant: Variant, cfg: OfflineConfig, shares: Shares, workDir: string, profDir: string, log: (s: string) => void): Promise<OfflineRun> {
  const vendors = BENCH_VENDORS.filter((v) => (shares[v] ?? 0) > 0);
  const prof = (name: string) => (cfg.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, `run${run}-${name}`)}`] : []);
  const children: Child[] = [];
  const dataDir = path.join(workDir, `herald-run${run}`);
  try {
    const hosts = hostGroups(vendors, cfg.emulatorProcs).map((group, k) => {
      const c = new Child(`emulators${k + 1}`, path.join(here, 'emulators.ts'), [group.join(',')], prof(`emulators${k + 1}`));
      children.push(c);
      return { child: c, vendors: group };
    });
    await Promise.all(hosts.map((h) => h.child.waitFor('listening', 60_000)));
    const configs: Record<string, Record<string, unknown>> = {};
    let subscriptions: string[] = [];
    for (const h of hosts) {
      const r = await h.child.call<{ configs: Record<string, Record<string, unknown>>; subscriptions: string[] }>('setup', { webPushSubscriptions: shares.webpush ?? 0 });
      Object.assign(configs, r.configs);
      if (r.subscriptions.length) subscriptions = r.subscriptions;
    }

    const seed = await seedOffline(dataDir, shares, subscriptions);
    log(`${variant.label}: seeded ${seed.devices} devices in ${(seed.seedMs / 1000).toFixed(1)} s (${vendors.map((v) => `${v} ${shares[v]}`).join(', ')})`);

    const env: Record<string, string> = cfg.vendorConcurrency ? { HERALD_VENDOR_CONCURRENCY: String(cfg.vendorConcurrency) } : {};
    const herald = new Child('herald', path.join(gatewayDir, 'herald-server.ts'), [dataDir], prof('herald'), env);
    children.push(herald);
    const { url } = (await herald.waitFor('listening', 120_000)) as unknown as { url: string };
    const api = new AdminApi(url, seed.sdkAppId, seed.secretKey);
    for (const v of vendors) await api.ok('set_certificate', { Vendor: v, Name: 'emulator', Config: { ...configs[v], ...variant.certExtra[v] } });

    const procs = [{ name: 'herald', child: herald, vendors: '' }, ...hosts.map((h) => ({ name: h.child.name, child: h.child, vendors: h.vendors.join(',') }))];
    const load0 = await Promise.all(procs.map((p) => p.child.call<LoadSample>('load')));
    const monoUs = () => Number(process.hrtime.bigint() / 1000n);
    const monoSent = monoUs();
    const sentAt = Date.now();
    const { reply, ms: replyMs } = await api.ok('push', { From_Account: ADMIN, MsgRandom: api.nextRandom(), OfflinePushInfo: { PushFlag: 0, Title: 'Offline benchmark', Desc: 'One message to every device, through its vendor', Ext: JSON.stringify({ page: 'bench' }) } });
    const taskId = String(reply.TaskId);
    log(`${variant.label}: push answered in ${replyMs.toFixed(1)} ms, TaskId ${taskId}`);

    const deadline = Date.now() + cfg.pushTimeout * 1000;
    let counts: VendorCount[] = [];
    let task: TaskReply = {};
    let doneAt = NaN;
    let stillSince = Date.now();
    let lastTotal = -1;
    let lastLog = Date.now();
    const total = () => counts.reduce((s, c) => s + c.devices, 0);
    const full = () => counts.every((c) => c.devices >= (shares[c.vendor] ?? 0));
    while (Date.now() < deadline) {
      counts = (await Promise.all(hosts.map((h) => h.child.call<VendorCount[]>('counts')))).flat();
      const t = await api.call('get_push_task', { TaskId: taskId });
      if (t.reply.ActionStatus !== 'OK') throw new TimCallError('get_push_task', t.reply);
      task = t.reply.Task as TaskReply;
      if (task.Status === 'done' && Number.isNaN(doneAt)) {
        doneAt = Date.now();
        log(`${variant.label}: task done ${((doneAt - sentAt) / 1000).toFixed(2)} s after the push`);
      }
      if (total() !== lastTotal) {
        lastTotal = total();
        stillSince = Date.now();
      }
      const sentByHerald = (task.Vendors ?? []).reduce((s, v) => s + v.Sent, 0);
      if (full() && !Number.isNaN(doneAt) && sentByHerald >= lastTotal) break;
      if (!Number.isNaN(doneAt) && Date.now() - stillSince > cfg.settle * 1000) {
        log(`${variant.label}: task done and counts still for ${cfg.settle} s at ${lastTotal} of ${seed.devices}`);
        break;
      }
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`${variant.label}: ${lastTotal} of ${seed.devices} devices at the emulators, task ${task.Status ?? '?'}`);
      }
      await sleep(200);
    }
    const monoComplete = monoUs();
    const load1 = await Promise.all(procs.map((p) => p.child.call<LoadSample>('load')));
    const cpu = procs.map((p, k): ProcessCpu => {
      const a = load0[k]!;
      const b = load1[k]!;
      const cpuMs = (b.cpuUserUs - a.cpuUserUs + b.cpuSystemUs - a.cpuSystemUs) / 1000;
      const active = b.eluActive - a.eluActive;
      const idle = b.eluIdle - a.eluIdle;
      return { process: p.name, vendors: p.vendors, cpuSeconds: cpuMs / 1000, cpuPct: (cpuMs / (b.wallMs - a.wallMs)) * 100, eventLoopPct: (active / (active + idle)) * 100, loopDelayMaxMs: b.loopDelayMaxMs };
    });

    const rows = vendors.map((v): VendorRow => {
      const c = counts.find((x) => x.vendor === v)!;
      const lastMs = c.lastAt - sentAt;
      return {
        vendor: v,
        seeded: shares[v] ?? 0,
        received: c.devices,
        distinct: c.distinct,
        requests: c.requests,
        heraldSent: task.Vendors?.find((x) => x.Vendor === v)?.Sent ?? 0,
        firstMs: c.firstAt - sentAt,
        lastMs,
        perSecond: c.devices / (lastMs / 1000),
      };
    });
    const received = rows.reduce((s, r) => s + r.received, 0);
    const lastMs = Math.max(...rows.map((r) => r.lastMs));
    // a stop, not a kill: a process under --cpu-prof writes its profile as it exits
    for (const p of procs) await p.child.call('stop', {}, 30_000).catch((err: unknown) => log(`${p.name}: stop failed: ${String(err)}`));
    await Promise.all(procs.map((p) => p.child.exitWithin(10_000)));
    return {
      label: variant.label,
      devices: seed.devices,
      seedMs: seed.seedMs,
      taskId,
      replyMs,
      doneMs: doneAt - sentAt,
      lastMs,
      received,
      perSecond: received / (lastMs / 1000),
      complete: rows.every((r) => r.received === r.seeded && r.distinct === r.seeded),
      vendors: rows,
      losses: task.Losses ?? [],
      task,
      cpu,
      monoWindowUs: [monoSent, monoComplete],
    };
  } finally {
    for (const c of children) c.kill();
    await Promise.all(children.map((c) => c.exitWithin(5000)));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
