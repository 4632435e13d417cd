import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/store/migrations.js';
import { testDatabases, PG_BASE } from './helpers/dialects.js';

/**
 * The migrator reads the whole database's catalog (pg_get_serial_sequence on every table); a
 * neighbour dropping its schema at that moment makes PostgreSQL answer 3F000 for a schema that is
 * not ours. This pool answers so to the first `failures` catalog reads, as that race does.
 */
function vanishingSchemaPool(pool: pg.Pool, failures: number): { pool: pg.Pool; seen: () => number } {
  let seen = 0;
  const wrapped = {
    async connect() {
      const client = await pool.connect();
      return new Proxy(client, {
        get(target, key) {
          if (key === 'query') {
            return (text: unknown, params?: unknown) => {
              if (typeof text === 'string' && text.includes('pg_get_serial_sequence') && seen++ < failures) {
                return Promise.reject(Object.assign(new Error('schema "t_neighbour" does not exist'), { code: '3F000' }));
              }
              return (target.query as (t: unknown, p?: unknown) => unknown)(text, params);
            };
          }
          const v = Reflect.get(target, key) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
    end: () => pool.end(),
  };
  return { pool: wrapped as unknown as pg.Pool, seen: () => seen };
}

const postgres = (await testDatabases()).some((d) => d.name === 'postgres');

test('migrations on PostgreSQL outlast a neighbour schema vanishing mid-look, and give up on a lasting error', { skip: !postgres && 'PostgreSQL not reachable' }, async () => {
  const schema = `t_mig_${Date.now().toString(36)}`;
  const pool = new pg.Pool({ connectionString: PG_BASE, max: 2 });
  const admin = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const open = (s: string, failures: number) => {
    const w = vanishingSchemaPool(new pg.Pool({ connectionString: PG_BASE, max: 2, options: `-c search_path=${s}` }), failures);
    return { db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool: w.pool }) }), seen: w.seen };
  };
  try {
    await sql`create schema ${sql.id(schema)}`.execute(admin);
    const once = open(schema, 1);
    await migrateToLatest(once.db, schema);
    await once.db.destroy();
    assert.ok(once.seen() > 1, 'looked again after the vanished schema');
    const tables = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = ${schema} and table_name = 'devices'`.execute(admin);
    assert.equal(tables.rows[0]!.n, 1, 'the schema was migrated');

    const fresh = `${schema}_b`;
    await sql`create schema ${sql.id(fresh)}`.execute(admin);
    const always = open(fresh, 100);
    await assert.rejects(migrateToLatest(always.db, fresh), /does not exist/);
    await always.db.destroy();
    assert.equal(always.seen(), 3, 'three looks, then the error stands');
    await sql`drop schema ${sql.id(fresh)} cascade`.execute(admin);
  } finally {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
    await admin.destroy();
  }
});
