import assert from 'node:assert/strict';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { withStatementCache } from '../src/store/statement-cache.js';

test('statements are reused by SQL, least recently used evicted first', () => {
  const raw = new BetterSqlite3(':memory:');
  let prepared = 0;
  const counting = Object.assign(Object.create(raw) as BetterSqlite3.Database, {
    prepare: (sql: string) => {
      prepared++;
      return raw.prepare(sql);
    },
  });
  const db = withStatementCache(counting, 2);
  const a = db.prepare('select 1 as x');
  assert.equal(db.prepare('select 1 as x'), a);
  db.prepare('select 2 as x');
  db.prepare('select 1 as x'); // a is now the most recent
  db.prepare('select 3 as x'); // evicts "select 2"
  assert.equal(db.prepare('select 1 as x'), a);
  db.prepare('select 2 as x');
  assert.equal(prepared, 4);
  assert.deepEqual(a.all([]), [{ x: 1 }]);
  db.close();
});
