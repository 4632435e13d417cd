import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrations.js';
import { startCheckpoints } from './checkpoints.js';
import { withStatementCache } from './statement-cache.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** `postgres://…` (optionally `?schema=name` to keep Herald's tables in their own schema); absent = SQLite. */
  databaseUrl?: string;
  /** Folder of the SQLite file `herald.sqlite3`. */
  dataDir: string;
  /** Told when a background checkpoint of the SQLite file failed (the next one tries again). */
  onCheckpointError?: (message: string) => void;
}

// int8 (bigint) and numeric come back from pg as strings by default; every bigint Herald stores
// (ids, epoch ms, counters) fits in a double, so parse them as numbers.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

function openPostgres(url: string): { db: Kysely<Database>; schema?: string } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  u.searchParams.delete('schema');
  const pool = new pg.Pool({
    connectionString: u.toString(),
    max: 10,
    types: pgTypes,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), schema };
}

const sqliteFile = (dataDir: string) => path.join(dataDir, 'herald.sqlite3');

function openSqlite(dataDir: string): Kysely<Database> {
  fs.mkdirSync(dataDir, { recursive: true });
  const sqlite = new BetterSqlite3(sqliteFile(dataDir));
  // WAL lets readers run beside the one writer; FULL makes every accepted push survive power loss.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // the background checkpointer (checkpoints.ts) keeps the log short; this connection only steps
  // in past 80 MB (SQLite's default is 4 MB), and a log that grew is cut back to 64 MB once copied
  sqlite.pragma('wal_autocheckpoint = 20000');
  sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  let db: Kysely<Database>;
  let dialect: Dialect;
  let schema: string | undefined;
  if (opts.databaseUrl && /^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
    const opened = openPostgres(opts.databaseUrl);
    db = opened.db;
    dialect = 'postgres';
    schema = opened.schema;
    if (schema) await db.schema.createSchema(schema).ifNotExists().execute();
  } else if (opts.databaseUrl) {
    throw new Error('HERALD_DATABASE_URL must start with postgres:// (leave it unset for SQLite)');
  } else {
    db = openSqlite(opts.dataDir);
    dialect = 'sqlite';
  }
  await migrateToLatest(db as unknown as Kysely<unknown>, schema);
  const checkpoints = dialect === 'sqlite' ? startCheckpoints(sqliteFile(opts.dataDir), opts.onCheckpointError ?? (() => {})) : undefined;
  return {
    db,
    dialect,
    async close() {
      await checkpoints?.stop();
      await db.destroy();
    },
  };
}
