/** The printed report: audience timings, the all-users push side by side with the baseline, per run, the aims. */
import { fmt } from '../gateway/report.js';
import { median } from '../gateway/stats.js';
import type { FanoutConfig, HeraldRun, PushResult } from './measure.js';

export function audienceTable(runs: HeraldRun[]): string {
  const lines = ['| DryRun condition | AudienceCount | expected | median (ms) | first call (ms) | count right |', '| --- | ---: | ---: | ---: | ---: | --- |'];
  const labels = runs[0]?.audience.map((a) => a.label) ?? [];
  labels.forEach((label, i) => {
    const of = runs.map((r) => r.audience[i]!);
    const counts = [...new Set(of.flatMap((a) => a.counts))];
    lines.push(
      `| ${label} | ${counts.join(' / ')} | ${of[0]!.expected} | ${fmt(median(of.map((a) => a.medianMs)), 1)} | ${fmt(median(of.map((a) => a.firstMs)), 1)} | ${of.every((a) => a.correct) ? 'yes' : 'NO'} |`,
    );
  });
  return lines.join('\n');
}

interface Row {
  label: string;
  get(r: PushResult): number;
  digits: number;
  ratio: boolean;
  heraldOnly?: boolean;
}

const rows: Row[] = [
  { label: 'devices connected', get: (r) => r.connected, digits: 0, ratio: false },
  { label: 'devices with exactly one message, the task’s', get: (r) => r.exactlyOne, digits: 0, ratio: false },
  { label: 'devices that did not get it', get: (r) => r.missing, digits: 0, ratio: false },
  { label: 'duplicate frames / frames with another id', get: (r) => r.duplicates + r.otherIds, digits: 0, ratio: false },
  { label: 'REST answer (ms)', get: (r) => r.replyMs, digits: 1, ratio: true },
  { label: 'send → first delivery (ms)', get: (r) => r.firstMs, digits: 1, ratio: true },
  { label: 'send → median delivery (ms)', get: (r) => r.p50Ms, digits: 1, ratio: true },
  { label: 'send → p99 delivery (ms)', get: (r) => r.p99Ms, digits: 1, ratio: true },
  { label: 'send → last delivery (ms)', get: (r) => r.lastMs, digits: 1, ratio: true },
  { label: 'deliveries/s to connected devices, send → last', get: (r) => r.rateFromSend, digits: 0, ratio: true },
  { label: 'deliveries/s to connected devices, first → last', get: (r) => r.rateFromFirst, digits: 0, ratio: true },
  { label: 'send → task done, get_push_task (s)', get: (r) => r.doneMs / 1000, digits: 2, ratio: false, heraldOnly: true },
  { label: 'server CPU, push → complete (s)', get: (r) => r.serverCpuSeconds, digits: 2, ratio: true },
  { label: 'server CPU, push → complete (% of one core)', get: (r) => r.serverCpuPct, digits: 1, ratio: true },
  { label: 'server event loop busy, push → complete (%)', get: (r) => r.serverEventLoopPct, digits: 1, ratio: true },
  { label: 'longest HTTP answer while sending (ms)', get: (r) => r.probeMaxMs, digits: 1, ratio: true },
  { label: '`msg` frame size (bytes)', get: (r) => r.frameBytes, digits: 0, ratio: false },
  { label: 'time to connect and auth the devices (s)', get: (r) => r.connectMs / 1000, digits: 1, ratio: true },
];

export function pushTable(herald: PushResult[], bare: PushResult[]): string {
  const lines = ['| all-users push | Herald | bare ws | Herald ÷ bare |', '| --- | ---: | ---: | ---: |'];
  for (const row of rows) {
    const h = median(herald.map(row.get));
    const b = row.heraldOnly ? NaN : median(bare.map(row.get));
    const ratio = row.ratio && Number.isFinite(h) && Number.isFinite(b) && b !== 0 ? `${(h / b).toFixed(2)}x` : '-';
    lines.push(`| ${row.label} | ${fmt(h, row.digits)} | ${fmt(b, row.digits)} | ${ratio} |`);
  }
  return lines.join('\n');
}

export function perRunTable(results: PushResult[]): string {
  const lines = [
    '| server | run | exactly one | missing | dup | REST (ms) | first (ms) | last (ms) | deliveries/s send→last | deliveries/s first→last | task done (s) | server CPU (s) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.server === 'herald' ? 'Herald' : 'bare ws'} | ${r.run} | ${r.exactlyOne} | ${r.missing} | ${r.duplicates} | ${fmt(r.replyMs, 1)} | ${fmt(r.firstMs, 1)} | ${fmt(r.lastMs, 1)} | ${fmt(r.rateFromSend, 0)} | ${fmt(r.rateFromFirst, 0)} | ${r.server === 'herald' ? fmt(r.doneMs / 1000, 2) : '-'} | ${fmt(r.serverCpuSeconds, 2)} |`,
    );
  }
  return lines.join('\n');
}

export interface Aims {
  /** The slowest condition's median DryRun time. */
  audienceMaxMedianMs: number;
  audienceCorrect: boolean;
  taskDoneSeconds: number;
  /** Herald ÷ bare deliveries per second, send → last (the verdict) and first → last. */
  rateRatio: number;
  rateRatioFromFirst: number;
  /** Every connected device got exactly one message, the task's, in every run of both servers. */
  deliveryCorrect: boolean;
}

export function aims(runs: HeraldRun[], bare: PushResult[]): Aims {
  const herald = runs.map((r) => r.push);
  const labels = runs[0]?.audience.map((a) => a.label) ?? [];
  const perCase = labels.map((_, i) => median(runs.map((r) => r.audience[i]!.medianMs)));
  return {
    audienceMaxMedianMs: perCase.length ? Math.max(...perCase) : NaN,
    audienceCorrect: runs.length > 0 && runs.every((r) => r.audience.every((a) => a.correct)),
    taskDoneSeconds: median(herald.map((r) => r.doneMs / 1000)),
    rateRatio: median(herald.map((r) => r.rateFromSend)) / median(bare.map((r) => r.rateFromSend)),
    rateRatioFromFirst: median(herald.map((r) => r.rateFromFirst)) / median(bare.map((r) => r.rateFromFirst)),
    deliveryCorrect: [...herald, ...bare].every((r) => r.exactlyOne === r.connected && r.duplicates === 0 && r.otherIds === 0),
  };
}

export function printReport(runs: HeraldRun[], bare: PushResult[], cfg: FanoutConfig, a: Aims): void {
  const herald = runs.map((r) => r.push);
  console.log(`\nFan-out benchmark — medians of ${cfg.runs} run(s); ${cfg.devices} devices seeded, ${cfg.connected} connected; node ${process.version}\n`);
  if (runs.length) {
    console.log(`Audience resolution (Herald, v4/timpush/push with DryRun 1; ${cfg.calls} calls per condition and run):\n`);
    console.log(audienceTable(runs));
    console.log('');
  }
  console.log(`All-users push (no Condition, PushFlag 0) to ${cfg.devices} devices, ${cfg.connected} of them connected; the baseline broadcasts the same body to the same ${cfg.connected} sockets:\n`);
  console.log(pushTable(herald, bare));
  console.log('\nPer run:\n');
  console.log(perRunTable([...herald, ...bare].sort((x, y) => x.run - y.run || (x.server === 'herald' ? -1 : 1))));
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const verdicts: string[] = [];
  if (runs.length) {
    verdicts.push(`audience resolution ${fmt(a.audienceMaxMedianMs, 1)} ms for the slowest condition (median; aim < 1000 ms: ${met(a.audienceMaxMedianMs < 1000)}), counts ${a.audienceCorrect ? 'right' : 'WRONG'}`);
    verdicts.push(`all-users task done in ${fmt(a.taskDoneSeconds, 2)} s (aim < 30 s: ${met(a.taskDoneSeconds < 30)})`);
  }
  if (runs.length && bare.length) {
    verdicts.push(`Herald delivery rate ${fmt(a.rateRatio, 2)}x bare's, send → last (${fmt(a.rateRatioFromFirst, 2)}x first → last) (aim ≥ 0.5x: ${met(a.rateRatio >= 0.5)})`);
  }
  verdicts.push(`every connected device got exactly one message: ${a.deliveryCorrect ? 'yes' : 'NO'}`);
  console.log(`\nAims: ${verdicts.join('; ')}`);
}

/** `--statistics compare`: the same push with statistics off and on (with callbacks), medians and the slowdown. */
export function statisticsTable(runs: HeraldRun[], callbacks: boolean): string {
  const off = runs.filter((r) => !r.statistics);
  const on = runs.filter((r) => r.statistics);
  const m = (list: HeraldRun[], f: (r: HeraldRun) => number) => median(list.map(f));
  const lines = [`| all-users push | statistics off | statistics on${callbacks ? ' + callbacks' : ', no callback URL'} | slowdown |`, '| --- | ---: | ---: | ---: |'];
  const row = (label: string, f: (r: HeraldRun) => number, digits: number, higherIsSlower: boolean) => {
    const a = m(off, f);
    const b = m(on, f);
    const slow = higherIsSlower ? b / a - 1 : a / b - 1;
    lines.push(`| ${label} | ${fmt(a, digits)} | ${fmt(b, digits)} | ${Number.isFinite(slow) ? `${(slow * 100).toFixed(1)}%` : '-'} |`);
  };
  row('send → task done (s)', (r) => r.push.doneMs / 1000, 2, true);
  row('send → last delivery (ms)', (r) => r.push.lastMs, 1, true);
  row('deliveries/s to connected devices, send → last', (r) => r.push.rateFromSend, 0, false);
  row('server CPU, push → complete (s)', (r) => r.push.serverCpuSeconds, 2, true);
  // each run measures off then on within a minute: the ratio within a run is steadier than the
  // ratio of medians when the machine's speed drifts between runs
  const pairs = on.map((r) => ({ run: r.run, onFirst: r.index === 0, on: r.push.doneMs, off: off.find((o) => o.run === r.run)?.push.doneMs ?? NaN })).filter((p) => Number.isFinite(p.off));
  if (pairs.length > 0) {
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    const ratios = pairs.map((p) => p.on / p.off - 1);
    lines.push('');
    lines.push(`Task done, on against off within each run: ${pairs.map((p, i) => `${pct(ratios[i]!)}${p.onFirst ? ' (on first)' : ''}`).join(', ')}; median ${pct(median(ratios))}.`);
    // which of a run's two pushes goes first moved the figures (docs/benchmarks.md, 2026-11-27): the
    // order alternates, and the mean of the two orders' medians leaves it out
    const offFirst = ratios.filter((_, i) => !pairs[i]!.onFirst);
    const onFirst = ratios.filter((_, i) => pairs[i]!.onFirst);
    if (offFirst.length > 0 && onFirst.length > 0) {
      lines.push(`Off first: median ${pct(median(offFirst))}; on first: median ${pct(median(onFirst))}; the order left out (mean of the two): ${pct((median(offFirst) + median(onFirst)) / 2)}.`);
    }
  }
  lines.push('');
  lines.push('| statistics on, per run | counted sendable at the end of the push phase | counts complete after (s) | callback events / expected | of them during the push | callbacks complete after (s) |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of on) {
    const l = r.lag;
    if (!l) continue;
    // absent in results recorded before it was measured
    lines.push(`| run ${r.run} | ${l.sendableAtEnd} / ${l.expectedSendable} | ${fmt(l.countsLagS, 2)} | ${l.callbackEvents} / ${l.expectedEvents} | ${l.callbackEventsAtEnd ?? '-'} | ${fmt(l.callbacksLagS, 2)} |`);
  }
  return lines.join('\n');
}
