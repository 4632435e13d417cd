import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OfflineBatch, OfflineChannels } from '../src/channels/index.js';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, pushBody, RawDevice, registerDevice, sleep, startTestHerald, type TestHerald } from './helpers/herald.js';

/** Vendor channels that take `delayMs` per batch and remember every device they were handed. */
class SlowVendors implements OfflineChannels {
  sent: { taskId: string; registrationId: string }[] = [];
  delayMs = 0;
  async sendOffline(batch: OfflineBatch): Promise<void> {
    await sleep(this.delayMs);
    for (const t of batch.targets) this.sent.push({ taskId: batch.taskId, registrationId: t.registrationId });
  }
  count(taskId: string, registrationId?: string): number {
    return this.sent.filter((s) => s.taskId === taskId && (registrationId === undefined || s.registrationId === registrationId)).length;
  }
}

/**
 * Single and batch pushes are routed under a lease that a crash leaves to lapse; the task runner
 * takes such pushes over. Leases are renewed while vendors are slow, so nothing is taken over (and
 * sent twice) while its holder is alive.
 */
for (const db of await testDatabases()) {
  describe(`routing leases (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    const vendors = new SlowVendors();
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const status = async (taskId: string) => (await call('get_push_task', { TaskId: taskId })).Task as { Status: string; Attempts: number; FailReason: string };
    /** Puts a routed push back as a process that died while routing it leaves it. */
    const abandon = (taskId: string, message?: string) =>
      h.herald.store.db.transaction().execute(async (tx) => {
        await tx.updateTable('tasks').set({ status: 'accepted', lease_until: Date.now() - 1, ...(message ? { message } : {}) }).where('task_id', '=', taskId).execute();
        await tx.updateTable('inbox').set({ sent_at: null, vendor_sent: 0 }).where('task_id', '=', taskId).execute();
      });

    before(async () => {
      h = await startTestHerald(db, { HERALD_TASK_LEASE_SECONDS: '1', HERALD_TASK_ATTEMPTS: '2', HERALD_TASK_RETRY_SECONDS: '0.1' }, { taskPollMs: 100, offline: vendors });
      app = await h.createApp('leases');
    });
    after(() => h?.stop());

    test('a batch push left accepted by a dead process is taken over: the connected device gets it, the offline one goes to its vendor', async () => {
      vendors.delayMs = 0;
      const on = await registerDevice(h.url, app);
      const off = await registerDevice(h.url, app);
      const dev = await RawDevice.connect(h.url, app, on);
      const r = await call('batch', pushBody([on.registrationId, off.registrationId], { Title: 'owed' }));
      await eventually(async () => (await status(r.TaskId)).Status === 'routed');
      assert.equal(vendors.count(r.TaskId, off.registrationId), 1);
      await dev.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      dev.frames.length = 0;
      await abandon(r.TaskId);
      await eventually(async () => (await status(r.TaskId)).Status === 'routed');
      assert.equal(vendors.count(r.TaskId, off.registrationId), 2, 'the offline device is sent again');
      assert.equal(vendors.count(r.TaskId, on.registrationId), 0, 'the connected one is not sent through its vendor');
      await dev.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      dev.close();
    });

    test('a batch push whose vendors take longer than the lease keeps its lease: sent once', async () => {
      vendors.delayMs = 2500;
      const d = await registerDevice(h.url, app);
      const r = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => (await status(r.TaskId)).Status === 'routed', 8000);
      await sleep(vendors.delayMs + 200); // a takeover would have started at 1 s and finished by now
      assert.equal(vendors.count(r.TaskId), 1);
    });

    test('an all-users page whose vendors take longer than the lease keeps its shard: each device sent once', async () => {
      vendors.delayMs = 2500;
      const other = await h.createApp('leases-fanout');
      const devices = await Promise.all([0, 1, 2].map(() => registerDevice(h.url, other)));
      const r = await admin(h.url, other, 'push', broadcastBody());
      await eventually(async () => ((await admin(h.url, other, 'get_push_task', { TaskId: r.TaskId })).Task as { Status: string }).Status === 'done', 8000);
      await sleep(300);
      for (const d of devices) assert.equal(vendors.count(r.TaskId, d.registrationId), 1);
    });

    test('a taken-over push that cannot be read is given up on: failed, with why', async () => {
      vendors.delayMs = 0;
      const d = await registerDevice(h.url, app);
      const r = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => (await status(r.TaskId)).Status === 'routed');
      await abandon(r.TaskId, '{"not json');
      const t = await eventually(async () => {
        const s = await status(r.TaskId);
        return s.Status === 'failed' ? s : undefined;
      });
      assert.equal(t.Attempts, 1);
      assert.match(t.FailReason, /^routing: stored push cannot be read/);
    });
  });
}
