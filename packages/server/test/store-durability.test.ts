import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore } from '../src/store/index.js';
import { relaxedTransaction } from '../src/store/relaxed-transaction.js';
import { testDatabases } from './helpers/dialects.js';

const sqliteDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'herald-durability-'));

test('the SQLite log is copied back into the database file by the background checkpointer, not by commits', async () => {
  const dataDir = sqliteDir();
  const store = await openStore({ dataDir });
  try {
    await sql`create table filler (body text)`.execute(store.db);
    // 8 MB: under the threshold at which the main connection would checkpoint itself (80 MB)
    for (let i = 0; i < 20; i++) {
      await store.db.transaction().execute(async (tx) => {
        for (let j = 0; j < 100; j++) await sql`insert into filler values (${'x'.repeat(4000)})`.execute(tx);
      });
    }
    const file = path.join(dataDir, 'herald.sqlite3');
    const deadline = Date.now() + 10_000;
    while (fs.statSync(file).size < 8_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fs.statSync(file).size >= 8_000_000, `the database file holds ${fs.statSync(file).size} bytes`);
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

for (const tdb of await testDatabases()) {
  test(`a relaxed transaction commits (and rolls back) like any other, and leaves ordinary commits synced (${tdb.name})`, async () => {
    const created = await tdb.create();
    const store = await openStore(created);
    const synced = async () =>
      tdb.name === 'sqlite' ? Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db)).rows[0]!.synchronous) : String((await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(store.db)).rows[0]!.synchronous_commit);
    try {
      const before = await synced();
      await sql`create table relaxed (n integer)`.execute(store.db);
      let inside: unknown;
      await relaxedTransaction(store.db, store.dialect, async (tx) => {
        await sql`insert into relaxed values (1)`.execute(tx);
        inside = tdb.name === 'sqlite' ? Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(tx)).rows[0]!.synchronous) : String((await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(tx)).rows[0]!.synchronous_commit);
      });
      assert.equal(inside, tdb.name === 'sqlite' ? 1 : 'off', 'the commit does not wait for the disk');
      await assert.rejects(
        relaxedTransaction(store.db, store.dialect, async (tx) => {
          await sql`insert into relaxed values (2)`.execute(tx);
          throw new Error('no');
        }),
        /no/,
      );
      const rows = (await sql<{ n: number }>`select n from relaxed`.execute(store.db)).rows.map((r) => Number(r.n));
      assert.deepEqual(rows, [1]);
      assert.equal(await synced(), before, 'other commits wait for the disk as before');
      assert.equal(before, tdb.name === 'sqlite' ? 2 : 'on');
    } finally {
      await store.close();
      await created.drop();
    }
  });
}
