import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { HeraldClient, MemoryStorage, type PushMessage } from '@herald/client';
import { apps, openStore, type App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually } from './helpers/herald.js';
import { freePort, kill, startHeraldProcess as startProcess, waitReady as ready } from './helpers/herald-process.js';

const DEVICES = 200;

for (const db of await testDatabases()) {
  describe(`a fan-out survives SIGKILL (${db.name})`, () => {
    const children: ChildProcess[] = [];
    const clients: HeraldClient[] = [];
    let drop: (() => Promise<void>) | undefined;
    after(async () => {
      for (const c of clients) await c.disconnect().catch(() => {});
      for (const p of children) p.kill('SIGKILL');
      await drop?.();
    });

    test('killed mid-task, restarted: the task completes, every device gets the push, each app sees it once', async () => {
      const store = await db.create();
      drop = store.drop;
      const opened = await openStore({ dataDir: store.dataDir, databaseUrl: store.databaseUrl });
      const app: App = await apps.createApp(opened.db, 'crash');
      await opened.close();
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const env = {
        HERALD_PORT: String(port),
        HERALD_HOST: '127.0.0.1',
        HERALD_DATA_DIR: store.dataDir,
        ...(store.databaseUrl ? { HERALD_DATABASE_URL: store.databaseUrl } : {}),
        HERALD_TASK_LEASE_SECONDS: '1',
        HERALD_FANOUT_SHARD_SIZE: '40',
        // All the devices register from this one address.
        HERALD_LIMIT_REGISTRATIONS_PER_ADDRESS: '0',
      };
      let child = startProcess(env);
      children.push(child);
      await ready(url);

      const seen = new Map<HeraldClient, PushMessage[]>();
      for (let i = 0; i < DEVICES; i++) {
        const client = new HeraldClient({ server: url, sdkAppId: app.sdkAppId, appKey: app.appKey, storage: new MemoryStorage(), device: { platform: 'node' }, reconnect: { minDelayMs: 100, maxDelayMs: 500 } });
        const list: PushMessage[] = [];
        client.on('message', (m) => {
          list.push(m);
        });
        client.on('error', () => {}); // connection errors while the server is down are expected
        seen.set(client, list);
        clients.push(client);
        await client.registerPush();
      }
      await Promise.all(clients.map((c) => c.connect()));

      const r = await admin(url, app, 'push', { From_Account: 'administrator', MsgRandom: 4242, PushSpeed: 50, OfflinePushInfo: { PushFlag: 0, Title: 'survive', Desc: 'a crash' } });
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      const received = () => [...seen.values()].filter((l) => l.some((m) => m.id === r.TaskId)).length;
      await eventually(async () => received() >= 30, 15_000);
      const before = (await admin(url, app, 'get_push_task', { TaskId: r.TaskId })).Task;
      await kill(child);
      assert.equal(before.Status, 'sending', 'killed while sending');
      assert.ok(before.Processed < DEVICES, `killed mid-task (${before.Processed} of ${DEVICES} processed)`);

      child = startProcess(env);
      children.push(child);
      await ready(url);
      await eventually(async () => received() === DEVICES, 30_000);
      const t = (await eventually(async () => {
        const x = (await admin(url, app, 'get_push_task', { TaskId: r.TaskId })).Task;
        return x.Status === 'done' ? x : undefined;
      }, 30_000)) as Record<string, number | string>;
      assert.equal(t.AudienceCount, DEVICES);
      assert.equal(t.Shards, 5);
      assert.equal(t.ShardsDone, 5);
      assert.equal(t.InboxCount, DEVICES, 'one inbox row per device: nothing written twice');
      for (const list of seen.values()) assert.equal(list.filter((m) => m.id === r.TaskId).length, 1, 'the app sees it once');
      await kill(child, 'SIGTERM');
    });
  });
}
