import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';

export const PG_BASE = process.env.HERALD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  /** Settings for one isolated store: a fresh SQLite folder or a fresh PostgreSQL schema. */
  create(): Promise<{ dataDir: string; databaseUrl?: string; drop(): Promise<void> }>;
}

let pgUp: Promise<boolean> | undefined;

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const sqlite: TestDatabase = {
  name: 'sqlite',
  async create() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-test-'));
    return { dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  },
};

const postgres: TestDatabase = {
  name: 'postgres',
  async create() {
    const schema = `t_${crypto.randomBytes(6).toString('hex')}`;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-test-'));
    return {
      dataDir,
      databaseUrl: `${PG_BASE}?schema=${schema}`,
      async drop() {
        const client = new pg.Client({ connectionString: PG_BASE });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

/**
 * The dialects a store or end-to-end test runs on. PostgreSQL is required in CI (CI=true): a test
 * run there without it fails instead of skipping.
 */
export async function testDatabases(): Promise<TestDatabase[]> {
  pgUp ??= postgresReachable();
  if (await pgUp) return [sqlite, postgres];
  if (process.env.CI === 'true') throw new Error(`PostgreSQL is not reachable at ${PG_BASE}, and CI requires it`);
  process.stderr.write(`PostgreSQL not reachable at ${PG_BASE}: running on SQLite only\n`);
  return [sqlite];
}

/** A fresh store of this dialect, opened; `close` closes and drops it. */
export async function openTestStore(tdb: TestDatabase): Promise<{ store: Store; close(): Promise<void> }> {
  const created = await tdb.create();
  const store = await openStore(created);
  return {
    store,
    async close() {
      await store.close();
      await created.drop();
    },
  };
}
