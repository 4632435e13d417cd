import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { ackingDevice, admin, broadcastBody, eventually, makeDevice, sleep, startTestHerald, type TestHerald } from './helpers/herald.js';

/** `HH:MM:SS` in UTC, `offsetMs` from now. */
const utc = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().slice(11, 19);

for (const db of await testDatabases()) {
  describe(`quiet hours and the daily cap (${db.name})`, () => {
    let h: TestHerald;
    before(async () => {
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
    });
    after(async () => h.stop());
    const call = (app: App, command: string, body: unknown) => admin(h.url, app, command, body);
    const losses = async (app: App, id: string) => (await call(app, 'get_push_task', { TaskId: id })).Task.Losses.map((l: any) => [l.ErrCode, l.Count]);

    test("quiet hours follow each device's time zone: delivery waits for the window to end, or the push is dropped if it expires first", async () => {
      const app = await h.createApp('quiet');
      const quiet = await makeDevice(h.url, app, { timeZone: 'UTC' });
      const tokyo = await makeDevice(h.url, app, { timeZone: 'Asia/Tokyo' }); // nine hours on: outside the window
      const away = await makeDevice(h.url, app, { timeZone: 'Etc/UTC' });
      const set = await call(app, 'set_push_settings', { QuietHours: { Start: utc(-60_000), End: utc(2500) } });
      assert.equal(set.ActionStatus, 'OK', JSON.stringify(set));
      assert.deepEqual((await call(app, 'get_push_settings', {})).QuietHours, set.QuietHours);
      const [cq, ct] = [await ackingDevice(h.url, app, quiet), await ackingDevice(h.url, app, tokyo)];
      const r = await call(app, 'push', broadcastBody());
      await ct.waitFor((f) => f.id === r.TaskId);
      const ca = await ackingDevice(h.url, app, away); // connects during its quiet hours: held too
      await sleep(400);
      assert.equal(cq.msgs().length + ca.msgs().length, 0, 'nothing during quiet hours');
      await cq.waitFor((f) => f.id === r.TaskId, 6000);
      await ca.waitFor((f) => f.id === r.TaskId, 6000);

      await call(app, 'set_push_settings', { QuietHours: { Start: utc(-60_000), End: utc(30_000) } });
      const short = await call(app, 'push', broadcastBody({ ExpireTime: 5 }));
      await ct.waitFor((f) => f.id === short.TaskId);
      assert.deepEqual(await losses(app, short.TaskId), [[-6, 2]], 'the window outlasts the push: dropped, with the quiet-hours reason');
      await call(app, 'set_push_settings', { QuietHours: null });
      assert.equal((await call(app, 'get_push_settings', {})).QuietHours, null);
      assert.equal((await call(app, 'set_push_settings', { QuietHours: { Start: '25:00', End: '08:00' } })).ErrorCode, 90001);
      for (const c of [cq, ct, ca]) c.close();
    });

    test('daily cap: a user gets at most DailyLimit all-users and tag pushes a day, on every device; the rest are losses', async () => {
      const app = await h.createApp('cap');
      assert.equal((await call(app, 'set_push_settings', { DailyLimit: 1 })).DailyLimit, 1);
      const phone = await makeDevice(h.url, app, { user: 'u1' });
      const tablet = await makeDevice(h.url, app, { user: 'u1' });
      const [cp, ct] = [await ackingDevice(h.url, app, phone), await ackingDevice(h.url, app, tablet)];
      const first = await call(app, 'push', broadcastBody());
      await cp.waitFor((f) => f.id === first.TaskId);
      await ct.waitFor((f) => f.id === first.TaskId); // a second device of the same user: the same push, not a second one
      const second = await call(app, 'push', broadcastBody());
      await eventually(async () => (await call(app, 'get_push_task', { TaskId: second.TaskId })).Task.Status === 'done');
      await sleep(200);
      assert.equal(cp.msgs().filter((m) => m.id === second.TaskId).length + ct.msgs().filter((m) => m.id === second.TaskId).length, 0);
      assert.deepEqual(await losses(app, second.TaskId), [[-7, 2]]);
      cp.close();
      ct.close();
    });
  });
}
