import { sql, type Kysely, type Transaction } from 'kysely';
import type { Dialect } from './db.js';
import type { Database } from './schema.js';

/**
 * Runs `fn` in a transaction whose commit does not wait for the disk, for writes whose loss in a
 * power cut costs little: the statistics recorder's, which sat in memory until then anyway. A
 * crash of the process loses nothing committed, and the next ordinary commit syncs the log and
 * these writes with it.
 * SQLite in WAL mode: synchronous = NORMAL for this commit only (sqlite.org/pragma.html#pragma_synchronous),
 * set on the connection the transaction holds, so no other commit runs meanwhile.
 * PostgreSQL: synchronous_commit off for this transaction (postgresql.org/docs/current/wal-async-commit.html).
 */
export async function relaxedTransaction<T>(db: Kysely<Database>, dialect: Dialect, fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (dialect === 'postgres') {
    return db.transaction().execute(async (tx) => {
      await sql`set local synchronous_commit = off`.execute(tx);
      return fn(tx);
    });
  }
  return db.connection().execute(async (conn) => {
    await sql`pragma synchronous = normal`.execute(conn);
    try {
      return await conn.transaction().execute(fn);
    } finally {
      await sql`pragma synchronous = full`.execute(conn);
    }
  });
}
