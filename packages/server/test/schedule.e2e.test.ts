import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { ackingDevice, admin, eventually, makeDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

/** Tencent's SchedAt: UTC `YYYY-MM-DD HH:MM:SS`. */
const at = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const content = (title: string, extra: Record<string, unknown> = {}) => ({ From_Account: 'administrator', OfflinePushInfo: { PushFlag: 0, Title: title, Desc: 'scheduled' }, ...extra });

for (const db of await testDatabases()) {
  describe(`scheduled pushes (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    before(async () => {
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('sched');
    });
    after(async () => h.stop());

    test('add, get, list, modify and delete; only pending tasks change; bad input is refused', async () => {
      const far = Date.now() + 3600_000;
      const a = await call('add_sched_task', { Sdkappid: app.sdkAppId, Type: 'Tag', SchedAt: at(far), Content: content('sale', { Condition: { TagsOr: ['vip'] } }) });
      assert.equal(a.ActionStatus, 'OK', JSON.stringify(a));
      const b = await call('add_sched_task', { Type: 'All', SchedAt: at(far + 60_000), Content: content('news') });
      assert.equal(b.TaskID, a.TaskID + 1);
      const got = await call('get_sched_task', { TaskID: a.TaskID });
      assert.deepEqual([got.TaskInfo.Type, got.TaskInfo.SchedAt, got.TaskInfo.Status, got.TaskInfo.Title, got.TaskInfo.PushTaskID], ['Tag', at(far), 'pending', 'sale', '']);
      assert.deepEqual(got.TaskInfo.Content.Condition, { TagsOr: ['vip'] });

      const list = await call('list_sched_task', { OrderBy: 'schedAt', Asc: 1, Want: 10 });
      assert.deepEqual([list.Total, list.Tasks.map((t: any) => t.Title)], [2, ['sale', 'news']]);
      assert.deepEqual((await call('list_sched_task', { Keyword: 'new' })).Tasks.map((t: any) => t.Title), ['news']);
      assert.equal((await call('list_sched_task', { OrderBy: 'schedAt', BeginTime: at(far + 1000) })).Total, 1);

      assert.equal((await call('modify_sched_task', { TaskID: a.TaskID, Type: 'Tag', SchedAt: at(far + 120_000), Content: content('bigger sale', { Condition: { TagsOr: ['vip'] } }) })).ActionStatus, 'OK');
      const moved = await call('get_sched_task', { TaskID: a.TaskID });
      assert.deepEqual([moved.TaskInfo.SchedAt, moved.TaskInfo.Title], [at(far + 120_000), 'bigger sale']);
      assert.equal((await call('modify_sched_task', { TaskID: a.TaskID, Type: 'All', SchedAt: at(far) })).ErrorCode, 90001, 'Type must match');
      assert.equal((await call('delete_sched_task', { TaskID: a.TaskID, Type: 'Tag' })).ActionStatus, 'OK');
      assert.equal((await call('get_sched_task', { TaskID: a.TaskID })).ErrorCode, 90049);
      assert.equal((await call('delete_sched_task', { TaskID: b.TaskID, Type: 'All' })).ActionStatus, 'OK');

      assert.equal((await call('add_sched_task', { Type: 'All', SchedAt: '2025-06-01T10:00:00Z', Content: content('x') })).ErrorCode, 90001);
      assert.equal((await call('add_sched_task', { Type: 'All', SchedAt: at(far), Content: content('x', { Condition: { TagsOr: ['a'] } }) })).ErrorCode, 90001);
      assert.equal((await call('add_sched_task', { Type: 'Tag', SchedAt: at(far), Content: content('x') })).ErrorCode, 90001);
      assert.equal((await call('add_sched_task', { Type: 'Tag', SchedAt: at(far), Content: content('x', { Condition: { TagsOr: ['a', 'a'] } }) })).ErrorCode, 90022);
      assert.equal((await call('add_sched_task', { Type: 'User', SchedAt: at(far), Content: content('x') })).ErrorCode, 90001, 'User needs To_Account');
      assert.equal((await call('add_sched_task', { Sdkappid: app.sdkAppId + 1, Type: 'All', SchedAt: at(far), Content: content('x') })).ErrorCode, 90001);
      const other = await h.createApp('other');
      assert.equal((await admin(h.url, other, 'get_sched_task', { TaskID: b.TaskID })).ErrorCode, 90049, 'apps are walls');
    });

    test('a task due while Herald was down fires when it comes back, and then can no longer change', async () => {
      const d = await makeDevice(h.url, app);
      const single = await makeDevice(h.url, app);
      const due = Date.now() + 1000;
      const all = await call('add_sched_task', { Type: 'All', SchedAt: at(due), Content: content('while you were down') });
      const user = await call('add_sched_task', { Type: 'User', SchedAt: at(due), Content: content('just you', { To_Account: [single.registrationId] }) });
      await h.restart(2500); // down across the due time
      const fired = await eventually(async () => {
        const t = (await call('get_sched_task', { TaskID: all.TaskID })).TaskInfo;
        return t.Status === 'dispatched' ? t : undefined;
      });
      assert.equal(fired.DispatchSuccess, 1);
      assert.match(fired.PushTaskID, /^[0-9a-f]+_/);
      const c = await ackingDevice(h.url, app, d);
      const m = await c.waitFor((f) => f.t === 'msg' && f.id === fired.PushTaskID);
      assert.equal(m.m.title, 'while you were down');
      const u = (await eventually(async () => {
        const t = (await call('get_sched_task', { TaskID: user.TaskID })).TaskInfo;
        return t.Status === 'dispatched' ? t : undefined;
      }));
      const cs = await ackingDevice(h.url, app, single);
      await cs.waitFor((f) => f.t === 'msg' && f.id === u.PushTaskID);
      assert.equal((await call('modify_sched_task', { TaskID: all.TaskID, Type: 'All', SchedAt: at(Date.now() + 60_000) })).ErrorCode, 90090);
      assert.equal((await call('delete_sched_task', { TaskID: all.TaskID, Type: 'All' })).ErrorCode, 90090);
      c.close();
      cs.close();
    });

    test('a task a dead process left dispatching is fired by the next one once its lease has lapsed', async () => {
      const d = await makeDevice(h.url, app);
      const content = { From_Account: 'administrator', MsgRandom: 777_001, To_Account: [d.registrationId], OfflinePushInfo: { PushFlag: 0, Title: 'taken over', Desc: 'x' } };
      await h.herald.store.db
        .insertInto('sched_tasks')
        .values({ app_id: app.sdkAppId, sched_id: 900, type: 'User', sched_at: Date.now() - 60_000, content: JSON.stringify(content), title: 'taken over', description: 'x', status: 'dispatching', dispatch_success: 0, dispatch_err: '', push_task_id: '', lease_until: Date.now() - 1000, created_at: Date.now() - 120_000 })
        .execute();
      const t = await eventually(async () => {
        const info = (await call('get_sched_task', { TaskID: 900 })).TaskInfo;
        return info.Status === 'dispatched' ? info : undefined;
      });
      const c = await ackingDevice(h.url, app, d);
      await c.waitFor((f) => f.t === 'msg' && f.id === t.PushTaskID);
      c.close();
    });
  });
}
