/**
 * What the statistics recorder costs on its own: the entries of the fan-out benchmark's push
 * (1,000,000 devices: the offline ones lost for want of a vendor token, in batches of 1,000 as the
 * vendor channel hands them over, and the connected ones sent and reached on the gateway, whose
 * users are looked up) fed to a StatsRecorder on a fresh SQLite store with the app's callbacks on,
 * and written out. The fan-out benchmark measures the same work inside a whole push, where the
 * machine's drift hides differences of a few percent; this one times the recorder alone, in
 * seconds of this process's CPU, several rounds in a row.
 *
 *   npm run bench:statistics -- [--devices 1000000] [--connected 19000] [--rounds 5]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CallbackOutbox, CallbackSettings, saveCallbackConfig } from '../../packages/server/src/callbacks/index.js';
import { LossReason } from '../../packages/server/src/stats/loss-reasons.js';
import { EventType } from '../../packages/server/src/stats/platforms.js';
import { StatsRecorder, lossEntries, type StatDevice, type StatEntry } from '../../packages/server/src/stats/recorder.js';
import { apps, openStore, type Store } from '../../packages/server/src/store/index.js';
import { chunks } from '../../packages/server/src/util/chunks.js';
import { numberOption } from '../options.js';
import { log } from '../work.js';

const { values: argv } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000000' },
    connected: { type: 'string', default: '19000' },
    rounds: { type: 'string', default: '5' },
  },
});
const devices = numberOption(argv, 'devices', 1000, 10_000_000, true);
const connected = numberOption(argv, 'connected', 0, Math.min(devices, 100_000), true);
const rounds = numberOption(argv, 'rounds', 1, 50, true);

const registrationId = (i: number) => `r_${String(i).padStart(7, '0')}`;
const userId = (i: number) => `u_${i}`;
const BATCH = 1000;

interface Round {
  wallMs: number;
  cpuMs: number;
  outboxRows: number;
  outboxBytes: number;
}

/** The connected devices' rows, so the recorder finds their users as it does in a push. */
async function seedConnected(store: Store, appId: number): Promise<void> {
  const now = Date.now();
  for (const part of chunks(
    Array.from({ length: connected }, (_, i) => i),
    500,
  )) {
    await store.db
      .insertInto('devices')
      .values(part.map((i) => ({ app_id: appId, registration_id: registrationId(i), install_id: `i_${i}`, user_id: userId(i), platform: 'android', vendor: null, token: null, voip_token: null, certificate_id: null, locale: 'en', time_zone: null, app_version: null, sdk_version: null, device_model: null, os_version: null, notification_permission: null, credential_hash: '', last_seq: 0, created_at: now, updated_at: now, last_seen_at: null })))
      .execute();
  }
}

async function round(n: number): Promise<Round> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-stats-bench-'));
  const store = await openStore({ dataDir });
  try {
    const app = await apps.createApp(store.db, 'stats-bench');
    const appId = app.sdkAppId;
    await saveCallbackConfig(store.db, appId, { url: 'http://127.0.0.1:9/unused' });
    await seedConnected(store, appId);
    const settings = new CallbackSettings(store.db);
    const recorder = new StatsRecorder(store.db, { dialect: store.dialect, callbacks: new CallbackOutbox(store.db, settings), onError: (err) => log(`recorder: ${String(err)}`) });
    const taskId = `bench-task-${n}`;
    const base = { appId, taskId, eventType: EventType.offline };

    const t0 = performance.now();
    const c0 = process.cpuUsage();
    // connected devices: sent then reached, in batches as the gateway's receipts come (no user known)
    for (const metric of ['sent', 'reached'] as const) {
      for (let from = 0; from < connected; from += 200) {
        const list: StatDevice[] = [];
        for (let i = from; i < Math.min(connected, from + 200); i++) list.push({ registrationId: registrationId(i), platform: 0 });
        const entries: StatEntry[] = [{ appId, taskId, eventType: EventType.online, metric, at: Date.now(), devices: list }];
        recorder.add(entries);
        await new Promise((r) => setImmediate(r));
      }
    }
    // the others: lost on the vendor channel, user and platform known, 1,000 to a batch
    for (let from = connected; from < devices; from += BATCH) {
      const list: StatDevice[] = [];
      for (let i = from; i < Math.min(devices, from + BATCH); i++) list.push({ registrationId: registrationId(i), userId: userId(i), platform: 0, devicePlatform: 0 });
      recorder.add([{ ...base, metric: 'sendable', platform: 0, count: list.length }, ...lossEntries({ ...base, at: Date.now() }, LossReason.noToken, { devices: list }, false)]);
      await new Promise((r) => setImmediate(r));
    }
    await recorder.flush();
    const cpu = process.cpuUsage(c0);
    const wallMs = performance.now() - t0;
    const rows = await store.db
      .selectFrom('callback_outbox')
      .select((eb) => [eb.fn.countAll<number>().as('rows'), eb.fn.sum<number>(eb.fn('length', ['body'])).as('bytes'), eb.fn.sum<number>('event_count').as('events')])
      .executeTakeFirstOrThrow();
    const expected = 2 * connected + (devices - connected);
    if (Number(rows.events) !== expected) throw new Error(`${rows.events} callback events stored, ${expected} expected`);
    return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, outboxRows: Number(rows.rows), outboxBytes: Number(rows.bytes) };
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results: Round[] = [];
for (let n = 1; n <= rounds; n++) {
  const r = await round(n);
  results.push(r);
  log(`round ${n}: ${r.wallMs.toFixed(0)} ms, CPU ${r.cpuMs.toFixed(0)} ms; outbox ${r.outboxRows} rows, ${(r.outboxBytes / 1e6).toFixed(1)} MB`);
}
console.log(
  `statistics recorder, ${devices} devices (${connected} connected), ${rounds} rounds: median ${median(results.map((r) => r.wallMs)).toFixed(0)} ms, CPU ${median(results.map((r) => r.cpuMs)).toFixed(0)} ms; outbox ${results[0]!.outboxRows} rows, ${(results[0]!.outboxBytes / 1e6).toFixed(1)} MB`,
);
