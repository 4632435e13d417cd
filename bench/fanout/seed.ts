/**
 * Seeds (or reuses) the fan-out benchmark's Herald store: one app and N registered devices, each with
 * its own user, tags and attributes, exactly as model.ts describes them. The schema and the app come
 * from Herald's own code (openStore runs the migrations, apps.createApp makes the app and its keys);
 * the rows are then bulk-inserted with better-sqlite3 (prepared multi-row statements, 50,000 devices
 * per transaction, no journal and synchronous = OFF while seeding only) because a million device
 * registrations through the API would take far too long.
 *
 * The result is a pristine store under bench/results/fanout-data/, kept with a marker (seed.json) for
 * the same parameters, model and migrations; runs copy it and never write to it. Alone:
 *   node --conditions=source --import tsx bench/fanout/seed.ts [--devices N] [--reseed]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { hashSecret } from '../../packages/server/src/auth/secrets.js';
import { apps, openStore } from '../../packages/server/src/store/index.js';
import { resultsDir } from '../gateway/measure.js';
import * as model from './model.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const migrationsFile = path.resolve(here, '../../packages/server/src/store/migrations.ts');
export const DB_FILE = 'herald.sqlite3';
const CHUNK = 50_000;

export interface SeedInfo {
  /** Folder of the pristine store (copy it; do not start Herald on it). */
  dataDir: string;
  devices: number;
  sdkAppId: number;
  secretKey: string;
  modelVersion: number;
  migrationsHash: string;
  rows: { devices: number; accountTags: number; accountAttrs: number };
  /** Time the seeding took when it was made (also when reused). */
  seedMs: number;
  seededAt: string;
  /** True when this call found the store ready and did not seed. */
  reused: boolean;
}

export const seedDir = (devices: number) => path.join(resultsDir, 'fanout-data', `seed-${devices}`);

function migrationsHash(): string {
  return crypto.createHash('sha256').update(fs.readFileSync(migrationsFile)).digest('hex').slice(0, 16);
}

/** Multi-row INSERT of named columns (others keep their defaults), `perStatement` rows at a time. */
export function inserter(db: BetterSqlite3.Database, table: string, columns: string[], perStatement: number) {
  const stmt = (rows: number) =>
    db.prepare(`insert into ${table} (${columns.join(', ')}) values ${Array.from({ length: rows }, () => `(${columns.map(() => '?').join(', ')})`).join(', ')}`);
  const full = stmt(perStatement);
  const width = columns.length;
  let buf: unknown[] = [];
  let count = 0;
  return {
    add(...values: unknown[]) {
      buf.push(...values);
      count++;
      if (buf.length === perStatement * width) {
        full.run(buf);
        buf = [];
      }
    },
    flush() {
      if (buf.length > 0) stmt(buf.length / width).run(buf);
      buf = [];
    },
    get count() {
      return count;
    },
  };
}

/**
 * A new store in `dataDir` (removed first), its schema and one app made by Herald's own code
 * (openStore runs the migrations, apps.createApp makes the app and its keys), opened for bulk inserts.
 */
export async function openBulk(dataDir: string): Promise<{ db: BetterSqlite3.Database; app: { sdkAppId: number; secretKey: string } }> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const store = await openStore({ dataDir });
  const app = await apps.createApp(store.db, 'bench');
  await store.close();
  const db = new BetterSqlite3(path.join(dataDir, DB_FILE));
  // Seeding only: nothing here needs to survive a crash, the marker is written last.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('cache_size = -1048576'); // 1 GiB
  db.pragma('temp_store = MEMORY');
  return { db, app };
}

/** Ends bulk inserting: Herald's journal mode, the exclusive lock off, closed. */
export function closeBulk(db: BetterSqlite3.Database): void {
  db.pragma('locking_mode = NORMAL');
  db.pragma('journal_mode = WAL'); // what Herald uses; also takes the exclusive lock off
  db.close();
}

/** Seeds `devices` devices into a new store in `dataDir` (removed first). */
export async function seed(dataDir: string, devices: number, log: (s: string) => void = () => {}): Promise<SeedInfo> {
  const t0 = performance.now();
  const hash = migrationsHash();
  const { db, app } = await openBulk(dataDir);
  const appId = app.sdkAppId;
  const now = Date.now();
  const dev = inserter(db, 'devices', ['app_id', 'registration_id', 'install_id', 'user_id', 'platform', 'locale', 'credential_hash', 'last_seq', 'created_at', 'updated_at'], 100);
  const tags = inserter(db, 'account_tags', ['app_id', 'account', 'tag'], 500);
  const attrs = inserter(db, 'account_attrs', ['app_id', 'slot', 'account', 'value'], 250);
  const insertMeta = db.transaction(() => {
    const tt = inserter(db, 'tag_types', ['app_id', 'tag', 'account_type'], 1);
    for (let k = 0; k < model.TAG_COUNT; k++) tt.add(appId, model.tagName(k), 0);
    const an = inserter(db, 'attr_names', ['app_id', 'slot', 'name', 'account_type'], 1);
    for (const a of model.ATTRS) an.add(appId, a.slot, a.name, 0);
  });
  insertMeta();
  // Devices go in in registration-id order, tags and attributes in user-id order ("u_0" < "u_1" <
  // "u_10" …) and each user's tags in name order: each table's primary key then grows at its end,
  // which keeps a large seed fast.
  const devicesChunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      // registration ids are created in index order, a little apart in time like real sign-ups
      const created = now - (devices - i) * 10;
      dev.add(appId, model.registrationId(i), model.installId(i), model.userId(i), model.platform(i), model.locale(i), hashSecret(model.credential(i)), 0, created, created);
    }
    dev.flush();
  });
  const userIds = Array.from({ length: devices }, (_, i) => model.userId(i));
  const byUser = Array.from({ length: devices }, (_, i) => i).sort((a, b) => (userIds[a]! < userIds[b]! ? -1 : 1));
  const tagOrder = Array.from({ length: model.TAG_COUNT }, (_, k) => k).sort((a, b) => (model.tagName(a) < model.tagName(b) ? -1 : 1));
  const tagNames = tagOrder.map(model.tagName);
  const accountsChunk = db.transaction((from: number, to: number) => {
    for (let j = from; j < to; j++) {
      const i = byUser[j]!;
      const user = userIds[i]!;
      for (let n = 0; n < tagOrder.length; n++) if (model.hasTag(i, tagOrder[n]!)) tags.add(appId, user, tagNames[n]);
      for (const a of model.ATTRS) attrs.add(appId, a.slot, user, model.attr(i, a.slot));
    }
    tags.flush();
    attrs.flush();
  });
  for (let from = 0; from < devices; from += CHUNK) devicesChunk(from, Math.min(devices, from + CHUNK));
  log(`seed: ${devices} devices, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (let from = 0; from < devices; from += CHUNK) {
    accountsChunk(from, Math.min(devices, from + CHUNK));
    if ((from / CHUNK) % 5 === 4) log(`seed: tags and attributes of ${Math.min(devices, from + CHUNK)} users, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const counted = db.prepare('select count(*) as n from devices where app_id = ?').get(appId) as { n: number };
  if (counted.n !== devices) throw new Error(`seed: ${counted.n} devices in the store, expected ${devices}`);
  closeBulk(db);

  const info: SeedInfo = {
    dataDir,
    devices,
    sdkAppId: app.sdkAppId,
    secretKey: app.secretKey,
    modelVersion: model.MODEL_VERSION,
    migrationsHash: hash,
    rows: { devices: dev.count, accountTags: tags.count, accountAttrs: attrs.count },
    seedMs: performance.now() - t0,
    seededAt: new Date().toISOString(),
    reused: false,
  };
  fs.writeFileSync(path.join(dataDir, 'seed.json'), JSON.stringify(info, null, 2));
  return info;
}

/** The pristine store for these parameters: reused when its marker matches, else seeded afresh. */
export async function ensureSeeded(devices: number, reseed: boolean, log: (s: string) => void): Promise<SeedInfo> {
  const dir = seedDir(devices);
  const marker = path.join(dir, 'seed.json');
  if (!reseed && fs.existsSync(marker) && fs.existsSync(path.join(dir, DB_FILE))) {
    const info = JSON.parse(fs.readFileSync(marker, 'utf8')) as SeedInfo;
    const hash = migrationsHash();
    if (info.devices === devices && info.modelVersion === model.MODEL_VERSION && info.migrationsHash === hash) return { ...info, reused: true };
    log(`seed: ${marker} is for other parameters (model ${info.modelVersion}, migrations ${info.migrationsHash}; now ${model.MODEL_VERSION}, ${hash}): seeding again`);
  }
  log(`seed: seeding ${devices} devices into ${path.relative(process.cwd(), dir)}`);
  const info = await seed(dir, devices, log);
  log(`seed: ${devices} devices, ${info.rows.accountTags} tags and ${info.rows.accountAttrs} attributes in ${(info.seedMs / 1000).toFixed(1)} s`);
  return info;
}

/** Copies the pristine store into `workDir` (the folder a run's Herald gets). */
export function copyStore(info: SeedInfo, workDir: string): void {
  fs.mkdirSync(workDir, { recursive: true });
  for (const f of fs.readdirSync(info.dataDir)) {
    if (!f.startsWith(DB_FILE)) continue;
    const to = path.join(workDir, f);
    fs.copyFileSync(path.join(info.dataDir, f), to);
    // on disk before the run: else the kernel writes the copy back during the push, and the
    // server's commits wait behind it by chance (a run's timing then says more of the disk queue)
    const fd = fs.openSync(to, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
}

// Alone, or forked by run.ts (which then gets the SeedInfo over IPC).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { devices: { type: 'string', default: '1000000' }, reseed: { type: 'boolean', default: false } } });
  const devices = Number(values.devices);
  if (!Number.isInteger(devices) || devices < 1 || devices > 10_000_000) throw new Error('--devices must be an integer in 1..10000000');
  const info = await ensureSeeded(devices, values.reseed ?? false, (s) => console.error(s));
  if (process.send) {
    process.send({ type: 'seeded', ...info });
    process.disconnect();
  } else {
    console.log(`${info.reused ? 'reused' : 'seeded'} ${path.relative(process.cwd(), info.dataDir)}: ${info.devices} devices, SDKAppID ${info.sdkAppId}; seeding took ${(info.seedMs / 1000).toFixed(1)} s`);
  }
}
