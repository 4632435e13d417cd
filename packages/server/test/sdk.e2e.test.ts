import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, MemoryStorage, type PushMessage } from '@herald/client';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually, pushBody, startTestHerald, type TestHerald } from './helpers/herald.js';

/** An SDK device that records what the app sees. */
function device(h: TestHerald, app: App, extra: { locale?: string; storage?: MemoryStorage } = {}) {
  const seen: PushMessage[] = [];
  const revoked: string[] = [];
  const client = new HeraldClient({
    server: h.url,
    sdkAppId: app.sdkAppId,
    appKey: app.appKey,
    storage: extra.storage ?? new MemoryStorage(),
    device: { platform: 'node', ...(extra.locale ? { locale: extra.locale } : {}) },
    reconnect: { minDelayMs: 50, maxDelayMs: 200 },
  });
  client.on('message', (m) => {
    seen.push(m);
  });
  client.on('revoke', (id) => {
    revoked.push(id);
  });
  return { client, seen, revoked };
}

for (const db of await testDatabases()) {
  describe(`client SDK against a real server (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    before(async () => {
      h = await startTestHerald(db);
      app = await h.createApp('sdk');
    });
    after(async () => h.stop());

    const acked = (registrationId: string, taskId: string) =>
      h.herald.store.db.selectFrom('inbox').select('acked_at').where('app_id', '=', app.sdkAppId).where('registration_id', '=', registrationId).where('task_id', '=', taskId).where('acked_at', 'is not', null).executeTakeFirst();

    test('two SDK devices: a push to alice and a push to a RegistrationID are received and acked', async () => {
      const a = device(h, app);
      const b = device(h, app);
      const { registrationId: ra } = await a.client.registerPush();
      const { registrationId: rb } = await b.client.registerPush();
      await a.client.bindUser('alice');
      await Promise.all([a.client.connect(), b.client.connect()]);
      const toAlice = await admin(h.url, app, 'batch', pushBody(['alice'], { Title: 'for alice', Ext: '{"k":1}' }));
      const toB = await admin(h.url, app, 'batch', pushBody([rb], { Title: 'for b' }));
      await eventually(async () => a.seen.length === 1 && b.seen.length === 1);
      assert.deepEqual([a.seen[0]!.id, a.seen[0]!.title, a.seen[0]!.ext], [toAlice.TaskId, 'for alice', '{"k":1}']);
      assert.deepEqual([b.seen[0]!.id, b.seen[0]!.title], [toB.TaskId, 'for b']);
      await eventually(() => acked(ra, toAlice.TaskId));
      await eventually(() => acked(rb, toB.TaskId));
      await a.client.reportClick(toAlice.TaskId);
      await eventually(() => h.herald.store.db.selectFrom('clicks').selectAll().where('task_id', '=', toAlice.TaskId).executeTakeFirst());
      await Promise.all([a.client.disconnect(), b.client.disconnect()]);
    });

    test('pushes sent while disconnected arrive after reconnect, in order, once at the app', async () => {
      const d = device(h, app, { locale: 'zh-Hant-TW' });
      const { registrationId } = await d.client.registerPush();
      await d.client.connect();
      await d.client.disconnect();
      const sent: string[] = [];
      for (let i = 1; i <= 5; i++) {
        const r = await admin(h.url, app, 'batch', pushBody([registrationId], { Title: `n${i}`, MultiLanguageContent: [{ Language: 'zh-Hant', Title: `繁${i}` }] }));
        sent.push(r.TaskId);
      }
      await d.client.connect();
      await eventually(async () => d.seen.length === 5);
      assert.deepEqual(d.seen.map((m) => m.id), sent);
      assert.deepEqual(d.seen.map((m) => m.title), ['繁1', '繁2', '繁3', '繁4', '繁5']);
      await eventually(() => acked(registrationId, sent[4]!));
      await d.client.disconnect();
    });

    test('a server restart mid-stream: the SDK reconnects by itself, unacked messages come again, the app sees each once', async () => {
      const storage = new MemoryStorage();
      const d = device(h, app, { storage });
      const { registrationId } = await d.client.registerPush();
      await d.client.connect();
      const first = await admin(h.url, app, 'batch', pushBody([registrationId], { Title: 'before' }));
      await eventually(async () => d.seen.length === 1);
      // Forget the ack on the server side, as if it had been lost in flight with the crash.
      await eventually(() => acked(registrationId, first.TaskId));
      await h.herald.store.db.updateTable('inbox').set({ acked_at: null }).where('task_id', '=', first.TaskId).execute();
      await h.restart();
      const second = await admin(h.url, app, 'batch', pushBody([registrationId], { Title: 'after' }));
      await eventually(async () => d.seen.length === 2, 10_000);
      assert.deepEqual(d.seen.map((m) => m.id), [first.TaskId, second.TaskId]);
      // the resent copy of `before` was acked again but not shown again
      await eventually(() => acked(registrationId, first.TaskId));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(d.seen.length, 2);
      await d.client.disconnect();
    });

    test('PushFlag 1 to an offline SDK device never arrives', async () => {
      const d = device(h, app);
      const { registrationId } = await d.client.registerPush();
      const r = await admin(h.url, app, 'batch', pushBody([registrationId], { PushFlag: 1, Title: 'live only' }));
      assert.equal(r.ActionStatus, 'OK');
      await d.client.connect();
      const later = await admin(h.url, app, 'batch', pushBody([registrationId], { Title: 'normal' }));
      await eventually(async () => d.seen.length >= 1);
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(d.seen.map((m) => m.id), [later.TaskId]);
      await d.client.disconnect();
    });
  });
}
