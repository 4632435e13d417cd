/** The printed report of the offline benchmark: per run, each vendor's share, counts and rate, the losses and each process's CPU. */
import { fmt } from '../gateway/report.js';
import type { OfflineRun } from './measure.js';

export function vendorTable(r: OfflineRun): string {
  const lines = [
    '| vendor | devices | accepted by the emulator | distinct tokens | requests | Herald’s Sent | first (ms) | last (ms) | sends/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const v of r.vendors) {
    lines.push(`| ${v.vendor} | ${v.seeded} | ${v.received} | ${v.distinct} | ${v.requests} | ${v.heraldSent} | ${fmt(v.firstMs, 0)} | ${fmt(v.lastMs, 0)} | ${fmt(v.perSecond, 0)} |`);
  }
  const sum = (f: (v: OfflineRun['vendors'][number]) => number) => r.vendors.reduce((s, v) => s + f(v), 0);
  lines.push(`| **all** | ${r.devices} | ${r.received} | ${sum((v) => v.distinct)} | ${sum((v) => v.requests)} | ${sum((v) => v.heraldSent)} | ${fmt(Math.min(...r.vendors.map((v) => v.firstMs)), 0)} | ${fmt(r.lastMs, 0)} | **${fmt(r.perSecond, 0)}** |`);
  return lines.join('\n');
}

export function cpuTable(r: OfflineRun): string {
  const lines = ['| process | vendors | CPU (s) | CPU (% of one core) | event loop busy (%) | longest loop delay (ms) |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  for (const p of r.cpu) lines.push(`| ${p.process} | ${p.vendors || '-'} | ${fmt(p.cpuSeconds, 2)} | ${fmt(p.cpuPct, 0)} | ${fmt(p.eventLoopPct, 0)} | ${fmt(p.loopDelayMaxMs, 0)} |`);
  return lines.join('\n');
}

export function summaryTable(runs: OfflineRun[]): string {
  const lines = ['| run | devices | push → last vendor request (s) | push → task done (s) | vendor sends/s | complete | losses |', '| --- | ---: | ---: | ---: | ---: | --- | ---: |'];
  for (const r of runs) {
    lines.push(`| ${r.label} | ${r.devices} | ${fmt(r.lastMs / 1000, 2)} | ${fmt(r.doneMs / 1000, 2)} | ${fmt(r.perSecond, 0)} | ${r.complete ? 'yes' : 'NO'} | ${r.losses.reduce((s, l) => s + l.Count, 0)} |`);
  }
  return lines.join('\n');
}

export function printReport(runs: OfflineRun[]): void {
  for (const r of runs) {
    console.log(`\n${r.label}: ${r.devices} offline devices, one all-users push (REST answer ${fmt(r.replyMs, 1)} ms)\n`);
    console.log(vendorTable(r));
    console.log('');
    console.log(cpuTable(r));
    if (r.losses.length) console.log(`\nLosses (get_push_task): ${r.losses.map((l) => `${l.Count} × ${l.ErrCode} ${l.Stage}: ${l.ErrInfo}`).join('; ')}`);
  }
  console.log('\nSummary:\n');
  console.log(summaryTable(runs));
}
