import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, MemoryStorage, type PushMessage } from '@herald/client';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { ackingDevice, admin, broadcastBody, eventually, makeDevice, pushBody, sleep, startTestHerald, type TestHerald } from './helpers/herald.js';

const info = { PushFlag: 0, Title: 'never mind', Desc: '' };

for (const db of await testDatabases()) {
  describe(`recall (${db.name})`, () => {
    let h: TestHerald;
    before(async () => {
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
    });
    after(async () => h.stop());
    const call = (app: App, command: string, body: unknown) => admin(h.url, app, command, body);
    const task = async (app: App, id: string) => (await call(app, 'get_push_task', { TaskId: id })).Task;

    test('a recalled push: the SDK that got it hears revoke, a device that connects later never sees it, codes 90049–90053', async () => {
      const app = await h.createApp('recall');
      const seen: PushMessage[] = [];
      const revoked: string[] = [];
      const sdk = new HeraldClient({ server: h.url, sdkAppId: app.sdkAppId, appKey: app.appKey, storage: new MemoryStorage(), device: { platform: 'node' } });
      sdk.on('message', (m) => {
        seen.push(m);
      });
      sdk.on('revoke', (id) => {
        revoked.push(id);
      });
      await sdk.registerPush();
      await sdk.connect();
      try {
        const late = await makeDevice(h.url, app);
        const r = await call(app, 'push', broadcastBody());
        await eventually(async () => seen.some((m) => m.id === r.TaskId));
        await eventually(() => h.herald.store.db.selectFrom('inbox').select('seq').where('task_id', '=', r.TaskId).where('acked_at', 'is not', null).executeTakeFirst());

        assert.equal((await call(app, 'revoke', { TaskId: 'no_such_task', OfflinePushInfo: info })).ErrorCode, 90049);
        assert.equal((await call(app, 'revoke', { TaskId: r.TaskId })).ErrorCode, 90053, 'PushFlag 0: the vendors need content to overwrite with');
        const ok = await call(app, 'revoke', { TaskId: r.TaskId, OfflinePushInfo: info });
        assert.equal(ok.ActionStatus, 'OK', JSON.stringify(ok));
        await eventually(async () => revoked.includes(r.TaskId));
        assert.equal((await call(app, 'revoke', { TaskId: r.TaskId, OfflinePushInfo: info })).ErrorCode, 90051, 'one recall a second');
        await sleep(1100);
        assert.equal((await call(app, 'revoke', { TaskId: r.TaskId, OfflinePushInfo: info })).ErrorCode, 90050);

        const c = await ackingDevice(h.url, app, late);
        await sleep(300);
        assert.equal(c.msgs().filter((m) => m.id === r.TaskId).length, 0, 'a device that connects after the recall never sees it');
        const t = await task(app, r.TaskId);
        assert.equal(t.Status, 'revoked');
        assert.deepEqual(t.Losses.filter((l: any) => l.ErrCode === -5).map((l: any) => l.Count), [1]);
        c.close();
      } finally {
        await sdk.disconnect(); // a client left connecting would keep the test process alive
      }
    });

    test('a recall stops the undelivered part of a task and reaches single pushes too; after 24 hours it is refused (90052)', async () => {
      const app = await h.createApp('stop');
      const devs = await Promise.all(Array.from({ length: 10 }, () => makeDevice(h.url, app)));
      const conns = await Promise.all(devs.map((d) => ackingDevice(h.url, app, d)));
      const r = await call(app, 'push', broadcastBody({ PushSpeed: 4 }, { PushFlag: 1 }));
      await eventually(async () => conns.some((c) => c.msgs().some((m) => m.id === r.TaskId)));
      assert.equal((await call(app, 'revoke', { TaskId: r.TaskId })).ActionStatus, 'OK', 'PushFlag 1 needs no OfflinePushInfo');
      await sleep(1500);
      const got = conns.filter((c) => c.msgs().some((m) => m.id === r.TaskId));
      assert.ok(got.length < 10, `delivery stopped: ${got.length} of 10 got it`);
      for (const c of got) await c.waitFor((f) => f.t === 'revoke' && f.id === r.TaskId);
      const t = await task(app, r.TaskId);
      assert.equal(t.Status, 'revoked');
      // Devices whose ack was stored keep their (acked) row; every other one is counted recalled.
      const reached = await h.herald.store.db.selectFrom('inbox').select('registration_id').where('task_id', '=', r.TaskId).execute();
      // recalled before it was handed over (-5) or after, before the ack (-10)
      const recalled = t.Losses.filter((l: any) => l.ErrCode === -5 || l.ErrCode === -10).reduce((n: number, l: any) => n + l.Count, 0);
      assert.equal(recalled, 10 - reached.length);

      // a single push can be recalled the same way
      const one = await call(app, 'batch', pushBody([devs[0]!.registrationId], { PushFlag: 1 }));
      await conns[0]!.waitFor((f) => f.id === one.TaskId);
      await sleep(1000);
      assert.equal((await call(app, 'revoke', { TaskId: one.TaskId })).ActionStatus, 'OK');
      await conns[0]!.waitFor((f) => f.t === 'revoke' && f.id === one.TaskId);

      const old = await call(app, 'push', broadcastBody({}, { PushFlag: 1 }));
      await h.herald.store.db.updateTable('tasks').set({ created_at: Date.now() - 25 * 3600_000 }).where('task_id', '=', old.TaskId).execute();
      await sleep(1000);
      assert.equal((await call(app, 'revoke', { TaskId: old.TaskId })).ErrorCode, 90052);
      for (const c of conns) c.close();
    });

    test('a device that got the push and was away when it was recalled is told when it reconnects, once', async () => {
      const app = await h.createApp('away');
      const d = await makeDevice(h.url, app);
      const c = await ackingDevice(h.url, app, d);
      const r = await call(app, 'push', broadcastBody({}, { PushFlag: 1 }));
      await c.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      await eventually(() => h.herald.store.db.selectFrom('inbox').select('seq').where('task_id', '=', r.TaskId).where('acked_at', 'is not', null).executeTakeFirst());
      c.close();
      await c.waitClosed();
      await eventually(async () => (await h.herald.router.online(app.sdkAppId, [d.registrationId])).size === 0);
      assert.equal((await call(app, 'revoke', { TaskId: r.TaskId })).ActionStatus, 'OK');
      const back = await ackingDevice(h.url, app, d);
      await back.waitFor((f) => f.t === 'revoke' && f.id === r.TaskId);
      assert.equal(back.msgs().length, 0, 'the recalled message itself is not sent again');
      back.close();
      await back.waitClosed();
      const again = await ackingDevice(h.url, app, d);
      await sleep(300);
      assert.equal(again.frames.filter((f) => f.t === 'revoke').length, 0, 'told once');
      again.close();
    });
  });
}
