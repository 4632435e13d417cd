import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import type { App, Database } from '../src/store/index.js';
import { pruneRetained } from '../src/stats/retention.js';
import { testDatabases } from './helpers/dialects.js';
import { ackingDevice, admin, broadcastBody, eventually, lossRows, makeDevice, pushBody, startTestHerald, type TestHerald } from './helpers/herald.js';

const MINUTE = 60_000;

/** Every table that keeps rows per push, and how many rows each holds for these tasks. */
async function rowsOf(db: Kysely<Database>, taskIds: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['tasks', 'inbox', 'losses', 'clicks', 'task_shards', 'loss_counts', 'vendor_counts', 'stat_counters', 'trace_events', 'msg_randoms', 'daily_pushes'] as const) {
    const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('task_id', 'in', [...taskIds]).executeTakeFirstOrThrow();
    out[table] = Number(r.n);
  }
  return out;
}

/** Rows the statistics, stats and daily cap would have written for a task, with keys no real write uses. */
async function seedStats(db: Kysely<Database>, appId: number, taskId: string, at: number): Promise<void> {
  await db.insertInto('stat_counters').values({ app_id: appId, family: 0, task_id: taskId, hour: 1, event_type: 2, platform: 0, metric: 'sent', code: 0, reason: '', count: 1 }).execute();
  await db.insertInto('trace_events').values({ app_id: appId, task_id: taskId, registration_id: 'r-seed', at, step: 'vendor_sent', event_type: 1, platform: 7, code: 0, info: 'seed' }).execute();
  await db.insertInto('vendor_counts').values({ app_id: appId, task_id: taskId, vendor: 'zz-seed', outcome: 'sent', count: 1 }).execute();
  await db.insertInto('loss_counts').values({ app_id: appId, task_id: taskId, code: 12345, stage: 'post_send', reason: 'seed', count: 1 }).execute();
  await db.insertInto('daily_pushes').values({ app_id: appId, account: 'seed', day: '2000-01-01', task_id: taskId }).execute();
}

const age = (db: Kysely<Database>, taskId: string, createdAgo: number, expiresIn: number) =>
  db.updateTable('tasks').set({ created_at: Date.now() - createdAgo, expires_at: Date.now() + expiresIn }).where('task_id', '=', taskId).execute();

for (const db of await testDatabases()) {
  describe(`retention (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    before(async () => {
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('retention');
    });
    after(async () => h.stop());

    test('old finished pushes go with every row kept for them, in small batches; live and recent ones stay, and still deliver', async () => {
      const store = h.herald.store.db;
      const online = await makeDevice(h.url, app, { user: 'on' });
      const offline = await makeDevice(h.url, app, { user: 'off' });
      const c = await ackingDevice(h.url, app, online);

      // an old batch push: acked by one device (and clicked), lost and unacked on the other
      const oldBatch = (await call('batch', pushBody(['on', 'off']))).TaskId;
      await c.waitFor((f) => f.t === 'msg' && f.id === oldBatch);
      c.send({ t: 'click', id: oldBatch });
      await eventually(() => store.selectFrom('clicks').selectAll().where('task_id', '=', oldBatch).executeTakeFirst());
      await eventually(async () => (await lossRows(h, oldBatch)).length === 1);
      // an old all-users push, closed as expired by the task runner
      const oldAll = (await call('push', broadcastBody({}, { PushFlag: 1 }))).TaskId;
      await eventually(async () => (await call('get_push_task', { TaskId: oldAll })).Task.Status === 'done');
      await age(store, oldAll, 3 * MINUTE, -2 * MINUTE);
      await eventually(async () => (await call('get_push_task', { TaskId: oldAll })).Task.Status === 'expired');
      // old, but their messages have not expired: an all-users push and a batch waiting for the offline device
      const liveAll = (await call('push', broadcastBody())).TaskId;
      await eventually(async () => (await call('get_push_task', { TaskId: liveAll })).Task.Status === 'done');
      const liveBatch = (await call('batch', pushBody(['off'], { PushFlag: 0, Title: 'still waiting' }))).TaskId;
      // recent and already expired: kept for the retention
      const recent = (await call('batch', pushBody(['on'], {}, { ExpireTime: 1 }))).TaskId;
      await h.herald.flush();
      await store.updateTable('tasks').set({ expires_at: Date.now() - 2 * MINUTE }).where('task_id', '=', recent).execute();
      await age(store, oldBatch, 3 * MINUTE, -2 * MINUTE);
      for (const id of [liveAll, liveBatch]) await age(store, id, 3 * MINUTE, 3600_000);

      const old = [oldBatch, oldAll];
      const kept = [liveAll, liveBatch, recent];
      for (const id of [...old, ...kept]) await seedStats(store, app.sdkAppId, id, Date.now());
      // trace rows older than the retention go whatever their task
      await store.insertInto('trace_events').values({ app_id: app.sdkAppId, task_id: 'gone-long-ago', registration_id: 'r', at: Date.now() - 10 * MINUTE, step: 'vendor_sent', event_type: 1, platform: 1, code: 0, info: '' }).execute();
      await store.insertInto('trace_events').values({ app_id: app.sdkAppId, task_id: 'gone-long-ago', registration_id: 'r', at: Date.now(), step: 'vendor_sent', event_type: 1, platform: 1, code: 0, info: '' }).execute();
      const sched = (id: number, status: string, schedAt: number) => ({ app_id: app.sdkAppId, sched_id: id, type: 'All', sched_at: schedAt, content: '{}', title: '', description: '', status, dispatch_success: 0, dispatch_err: '', push_task_id: '', lease_until: null, created_at: Date.now() - 10 * MINUTE });
      await store.insertInto('sched_tasks').values([sched(1, 'dispatched', Date.now() - 9 * MINUTE), sched(2, 'failed', Date.now() - 9 * MINUTE), sched(3, 'pending', Date.now() + 3600_000)]).execute();

      const before = await rowsOf(store, old);
      for (const t of ['tasks', 'inbox', 'losses', 'clicks', 'task_shards', 'stat_counters', 'trace_events', 'msg_randoms', 'daily_pushes']) assert.ok(before[t]! > 0, `${t} has rows to prune: ${JSON.stringify(before)}`);
      const keptBefore = await rowsOf(store, kept);

      const report = await pruneRetained(store, Date.now(), { retentionMs: MINUTE, rowsPerStatement: 1 });
      assert.deepEqual(report, { tasks: 2, schedules: 2, traceEvents: 1 });
      assert.deepEqual(Object.values(await rowsOf(store, old)), Object.values(before).map(() => 0), 'nothing of the old pushes is left');
      const keptAfter = await rowsOf(store, kept);
      // (background writes may add to them meanwhile, never take away)
      for (const [t, n] of Object.entries(keptBefore)) assert.ok(keptAfter[t]! >= n, `live and recent pushes keep their ${t}: ${n} → ${keptAfter[t]}`);
      assert.deepEqual([keptAfter.tasks, keptAfter.inbox! >= 3, keptAfter.task_shards! > 0, keptAfter.stat_counters! >= 3], [3, true, true, true]);
      assert.deepEqual((await store.selectFrom('sched_tasks').select('sched_id').where('app_id', '=', app.sdkAppId).execute()).map((r) => Number(r.sched_id)), [3]);
      assert.equal((await store.selectFrom('trace_events').select('at').where('task_id', '=', 'gone-long-ago').execute()).length, 1);
      assert.equal((await call('get_push_records', { TaskId: oldBatch })).Records.length, 0);
      assert.equal((await call('all_member_push_trace', { TaskID: oldAll, UserID: 'on' })).ErrorCode, 90049);

      // the offline device still gets the live push waiting in its inbox
      const late = await ackingDevice(h.url, app, offline);
      await late.waitFor((f) => f.t === 'msg' && f.id === liveBatch);
      late.close();
      c.close();
      assert.deepEqual(await pruneRetained(store, Date.now(), { retentionMs: MINUTE }), { tasks: 0, schedules: 0, traceEvents: 0 }, 'a second pass finds nothing');
    });
  });

  describe(`retention runs by itself, for HERALD_RETENTION_DAYS (${db.name})`, () => {
    let h: TestHerald;
    before(async () => {
      h = await startTestHerald(db, { HERALD_RETENTION_DAYS: '1' }, { taskPollMs: 100, pruneIntervalMs: 100 });
    });
    after(async () => h.stop());

    test('a push created and expired two days ago goes; one from half a day ago stays', async () => {
      const app = await h.createApp('days');
      const d = await makeDevice(h.url, app, { user: 'u' });
      const store = h.herald.store.db;
      const a = (await admin(h.url, app, 'batch', pushBody(['u']))).TaskId;
      const b = (await admin(h.url, app, 'batch', pushBody([d.registrationId]))).TaskId;
      await h.herald.flush();
      await age(store, a, 2 * 86400_000, -2 * 86400_000 + MINUTE);
      await age(store, b, 12 * 3600_000, -12 * 3600_000 + MINUTE);
      await eventually(async () => (await store.selectFrom('tasks').select('task_id').where('task_id', '=', a).executeTakeFirst()) === undefined);
      assert.equal((await store.selectFrom('inbox').select('seq').where('task_id', '=', a).execute()).length, 0);
      assert.ok(await store.selectFrom('tasks').select('task_id').where('task_id', '=', b).executeTakeFirst());
      assert.equal((await store.selectFrom('inbox').select('seq').where('task_id', '=', b).execute()).length, 1);
    });
  });
}
