/** The printed report: medians per server, Herald ÷ bare ratios, per-run figures, the aims. */
import type { BenchConfig, Kind, RunResult } from './measure.js';
import { median } from './stats.js';

interface Row {
  label: string;
  get(r: RunResult): number;
  digits: number;
  /** Herald ÷ bare is meaningful for this metric. */
  ratio: boolean;
}

const rows: Row[] = [
  { label: 'RSS per idle connected device (KiB)', get: (r) => r.rssPerDeviceKiB, digits: 2, ratio: true },
  { label: 'JS heap per idle connected device (KiB)', get: (r) => r.heapPerDeviceKiB, digits: 2, ratio: true },
  { label: 'RSS per device, N/2 → N connected (KiB)', get: (r) => r.rssSecondHalfKiB, digits: 2, ratio: true },
  { label: 'JS heap per device, N/2 → N connected (KiB)', get: (r) => r.heapSecondHalfKiB, digits: 2, ratio: true },
  { label: 'push → device latency p50 (ms)', get: (r) => r.latencyMs.p50, digits: 2, ratio: true },
  { label: 'push → device latency p99 (ms)', get: (r) => r.latencyMs.p99, digits: 2, ratio: true },
  { label: 'push → device latency max (ms)', get: (r) => r.latencyMs.max, digits: 2, ratio: true },
  { label: 'lost messages (accepted, never received)', get: (r) => r.lost, digits: 0, ratio: false },
  { label: 'pushes not delivered within the run (∞ latency)', get: (r) => r.undelivered, digits: 0, ratio: false },
  { label: 'REST reply p50 (ms)', get: (r) => r.replyMs.p50, digits: 2, ratio: true },
  { label: 'REST reply p99 (ms)', get: (r) => r.replyMs.p99, digits: 2, ratio: true },
  { label: 'pushes sent per second', get: (r) => r.sendRate, digits: 0, ratio: false },
  { label: 'pushes accepted per second (first send to last reply)', get: (r) => r.acceptRate, digits: 0, ratio: true },
  { label: 'server CPU during pushes (% of one core)', get: (r) => r.serverCpuPct, digits: 1, ratio: true },
  { label: 'server event loop busy during pushes (%)', get: (r) => r.serverEventLoopPct, digits: 1, ratio: true },
  { label: 'server event-loop delay p99 during pushes (ms)', get: (r) => r.serverLoopDelayP99Ms, digits: 1, ratio: true },
  { label: 'server event-loop delay max during pushes (ms)', get: (r) => r.serverLoopDelayMaxMs, digits: 1, ratio: true },
  { label: `time to connect and auth all devices (s)`, get: (r) => r.connectMs / 1000, digits: 1, ratio: true },
];

export function fmt(v: number, digits: number): string {
  if (v === Infinity) return '∞';
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

export function table(results: RunResult[]): string {
  const by = (k: Kind) => results.filter((r) => r.server === k);
  const lines = ['| metric | Herald | bare ws | ratio |', '| --- | ---: | ---: | ---: |'];
  for (const row of rows) {
    const h = median(by('herald').map(row.get));
    const b = median(by('bare').map(row.get));
    const ratio = row.ratio && Number.isFinite(h) && Number.isFinite(b) && b !== 0 ? `${(h / b).toFixed(2)}x` : h === Infinity && Number.isFinite(b) ? '∞' : '-';
    lines.push(`| ${row.label} | ${fmt(h, row.digits)} | ${fmt(b, row.digits)} | ${ratio} |`);
  }
  return lines.join('\n');
}

export function perRunTable(results: RunResult[]): string {
  const lines = ['| server | run | RSS/device (KiB) | heap/device (KiB) | RSS/device N/2→N (KiB) | p50 (ms) | p99 (ms) | max (ms) | lost | undelivered | accepted/s | reply p99 (ms) | server CPU (%) |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of results) {
    lines.push(
      `| ${r.server === 'herald' ? 'Herald' : 'bare ws'} | ${r.run} | ${fmt(r.rssPerDeviceKiB, 2)} | ${fmt(r.heapPerDeviceKiB, 2)} | ${fmt(r.rssSecondHalfKiB, 2)} | ${fmt(r.latencyMs.p50, 2)} | ${fmt(r.latencyMs.p99, 2)} | ${fmt(r.latencyMs.max, 2)} | ${r.lost} | ${r.undelivered} | ${fmt(r.acceptRate, 0)} | ${fmt(r.replyMs.p99, 2)} | ${fmt(r.serverCpuPct, 1)} |`,
    );
  }
  return lines.join('\n');
}

export interface Aims {
  memoryRatio: number;
  heapRatio: number;
  heraldP99: number;
  heraldLost: number;
}

export function aims(results: RunResult[]): Aims {
  const of = (k: Kind, get: (r: RunResult) => number) => median(results.filter((r) => r.server === k).map(get));
  return {
    memoryRatio: of('herald', (r) => r.rssPerDeviceKiB) / of('bare', (r) => r.rssPerDeviceKiB),
    heapRatio: of('herald', (r) => r.heapPerDeviceKiB) / of('bare', (r) => r.heapPerDeviceKiB),
    heraldP99: of('herald', (r) => r.latencyMs.p99),
    heraldLost: results.filter((r) => r.server === 'herald').reduce((s, r) => s + r.lost, 0),
  };
}

export function printReport(results: RunResult[], cfg: BenchConfig, a: Aims): void {
  // a ratio only means something when both sides grew
  const memOk = a.memoryRatio > 0 && a.memoryRatio <= 1.5 && a.heapRatio > 0 && a.heapRatio <= 1.5;
  console.log(`\nGateway benchmark — medians of ${cfg.runs} run(s); ${cfg.devices} devices; ${cfg.rate} single pushes/s for ${cfg.seconds} s (after ${cfg.warmup} s warm-up); node ${process.version}\n`);
  console.log(table(results));
  console.log('\nPer run:\n');
  console.log(perRunTable(results));
  console.log(
    `\nAims: RSS ratio ${fmt(a.memoryRatio, 2)}x, JS heap ratio ${fmt(a.heapRatio, 2)}x (aim ≤ 1.5x: ${memOk ? 'met' : 'NOT met'}); ` +
      `Herald p99 ${fmt(a.heraldP99, 2)} ms (aim < 50 ms: ${a.heraldP99 < 50 ? 'met' : 'NOT met'}); Herald lost ${a.heraldLost} (must be 0)`,
  );
}
