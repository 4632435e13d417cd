import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, RawDevice, registerDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

const ATTEMPTS = 4;
/** The audience of `{"Not":…}` nested a thousand times, as a version without limits stored it. */
const DEEP = `${'{"not":'.repeat(1000)}{"tag":"t"}${'}'.repeat(1000)}`;

for (const db of await testDatabases()) {
  describe(`pushes that fail (${db.name})`, () => {
    let h: TestHerald;
    let a: App;
    let b: App;
    let template: string;
    const conns: RawDevice[] = [];
    const task = async (app: App, taskId: string) => (await admin(h.url, app, 'get_push_task', { TaskId: taskId })).Task;
    const connect = async (app: App, device = undefined as Awaited<ReturnType<typeof registerDevice>> | undefined) => {
      const c = await RawDevice.connect(h.url, app, device ?? (await registerDevice(h.url, app)));
      conns.push(c);
      return c;
    };
    const pushTo = async (app: App, extra: Record<string, unknown> = {}) => {
      const r = await admin(h.url, app, 'push', broadcastBody(extra));
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      return r.TaskId as string;
    };
    let stored = 0;
    /** Writes a copy of app a's template push straight into the store, changed by `patch`. */
    const storeTask = async (patch: Record<string, unknown>) => {
      const row = await h.herald.store.db.selectFrom('tasks').selectAll().where('app_id', '=', a.sdkAppId).where('task_id', '=', template).executeTakeFirstOrThrow();
      const taskId = `${template}_${++stored}`;
      await h.herald.store.db
        .insertInto('tasks')
        .values({ ...row, task_id: taskId, msg_random: row.msg_random + stored, created_at: Date.now(), finished_at: null, target_count: 0, materialized: 0, dropped: 0, ...patch })
        .execute();
      return taskId;
    };

    before(async () => {
      h = await startTestHerald(db, { HERALD_TASK_ATTEMPTS: String(ATTEMPTS), HERALD_TASK_RETRY_SECONDS: '0.1', HERALD_FANOUT_CONCURRENCY: '1' }, { taskPollMs: 50, shardSize: 5 });
      a = await h.createApp('a');
      b = await h.createApp('b');
      template = await pushTo(a);
      await eventually(async () => (await task(a, template)).Status === 'done');
    });
    after(async () => {
      for (const c of conns) c.close();
      await h.stop();
    });

    test("a push whose stored audience is broken is retried, then failed with its reason; another app's all-users push reaches its device meanwhile", async () => {
      // an audience the compiler cannot read, and one a version without limits accepted
      const broken = await storeTask({ status: 'resolving', audience: '{"nope":true}' });
      const deep = await storeTask({ status: 'sending', audience: DEEP, target_count: 5 });
      const device = await connect(b);
      const other = await pushTo(b);
      assert.equal((await device.waitFor((f) => f.t === 'msg')).id, other);

      const failed = await eventually(async () => {
        const t = await task(a, broken);
        return t.Status === 'failed' && t;
      });
      assert.equal(failed.Attempts, ATTEMPTS);
      assert.match(failed.FailReason, /^resolving its audience: /);
      assert.ok(failed.FinishTime > 0);

      const refused = await eventually(async () => {
        const t = await task(a, deep);
        return t.Status === 'failed' && t;
      });
      assert.equal(refused.Attempts, 1, 'an audience over the limits is not retried');
      assert.equal(refused.FailReason, 'reading the stored task: stored task cannot be read: the audience is nested 1001 levels deep; at most 12');
      assert.deepEqual(refused.Losses, [{ ErrCode: -13, ErrInfo: "push failed (see the task's FailReason) before it was sent to the device", Stage: 'ready_to_send', Count: 5 }]);

      const records = await admin(h.url, a, 'get_push_records', { TaskId: broken });
      assert.deepEqual(records.Records.map((r: any) => [r.Status, r.HeraldStatus]), [['failed', 'failed']]);
      const metrics = await (await fetch(`${h.url}/metrics`)).text();
      assert.match(metrics, /^herald_pushes_failed_total 2$/m);
      assert.match(metrics, new RegExp(`^herald_push_attempts_failed_total ${ATTEMPTS + 1}$`, 'm'));
    });

    test("a device of the app with a broken push connects, gets ready and catches up with the app's other pushes", async () => {
      const registered = await registerDevice(h.url, a);
      // a push already sent (so the runner leaves it alone) whose audience catch-up cannot evaluate
      const broken = await storeTask({ status: 'done', audience: '{"nope":true}' });
      const missed = await pushTo(a);
      await eventually(async () => (await task(a, missed)).Status === 'done');

      const device = await connect(a, registered);
      assert.equal((await device.waitFor((f) => f.t === 'msg')).id, missed);
      const live = await pushTo(a);
      assert.equal((await device.waitFor((f) => f.t === 'msg' && f.id === live)).id, live);
      assert.equal(device.closed, null);

      const t = await task(a, broken);
      assert.equal(t.Attempts, 1);
      assert.match(t.FailReason, /^catching up connecting devices: /);
    });

    test("a heavy push (many shards, low PushSpeed) does not keep another app's pushes from its devices", async () => {
      const heavyApp = await h.createApp('heavy');
      for (let i = 0; i < 30; i++) await registerDevice(h.url, heavyApp);
      // six shards of five devices, one device a second, one slot (HERALD_FANOUT_CONCURRENCY 1): half a minute
      const heavy = await pushTo(heavyApp, { PushSpeed: 1 });
      await eventually(async () => (await task(heavyApp, heavy)).Shards === 6);

      const device = await connect(b);
      const now = await pushTo(b);
      assert.equal((await device.waitFor((f) => f.t === 'msg' && f.id === now)).id, now);
      // a paced push has no live pass: it needs the slot the heavy push holds
      const paced = await pushTo(b, { PushSpeed: 1000 });
      assert.equal((await device.waitFor((f) => f.t === 'msg' && f.id === paced)).id, paced);

      const h2 = await task(heavyApp, heavy);
      assert.equal(h2.Status, 'sending');
      assert.ok(h2.Processed < 30, `the heavy push is still going (${h2.Processed} of 30)`);
    });
  });
}
