import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allocateSeqs, apps, devices, inbox, openStore, tasks, type Store } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';

for (const tdb of await testDatabases()) {
  describe(`store (${tdb.name})`, () => {
    let store: Store;
    let created: Awaited<ReturnType<typeof tdb.create>>;
    let appId: number;
    before(async () => {
      created = await tdb.create();
      store = await openStore(created);
      appId = (await apps.createApp(store.db, 'store-test')).sdkAppId;
    });
    after(async () => {
      await store.close();
      await created.drop();
    });

    const addDevice = (id: string, user: string | null = null) =>
      devices.insertDevice(store.db, { app_id: appId, registration_id: id, install_id: `inst-${id}`, platform: 'node', credential_hash: 'h', fields: {} }, 1).then(async (ok) => {
        if (user) await devices.updateDevice(store.db, appId, id, {}, 2, { user_id: user });
        return ok;
      });

    test('migrations are idempotent: a second open of the same store sees the same data', async () => {
      const again = await openStore(created);
      try {
        assert.equal(again.dialect, tdb.name);
        assert.ok(await apps.findApp(again.db, appId));
      } finally {
        await again.close();
      }
    });

    test('apps: created with distinct keys, found by id, listed', async () => {
      const b = await apps.createApp(store.db, 'other');
      assert.notEqual(b.sdkAppId, appId);
      assert.match(b.secretKey, /^[0-9a-f]{64}$/);
      assert.match(b.appKey, /^[0-9a-f]{32}$/);
      assert.deepEqual((await apps.findApp(store.db, b.sdkAppId))?.adminIdentifiers, ['administrator']);
      assert.ok((await apps.listApps(store.db)).some((a) => a.sdkAppId === b.sdkAppId));
    });

    test('devices: one insert per registration id; targets by user or registration id, within the app', async () => {
      assert.equal(await addDevice('d1', 'u1'), true);
      assert.equal(await addDevice('d1'), false);
      await addDevice('d2', 'u1');
      await addDevice('d3');
      const t = await devices.findTargets(store.db, appId, ['u1', 'd3', 'ghost']);
      assert.deepEqual(t.map((x) => x.registration_id).sort(), ['d1', 'd2', 'd3']);
      assert.deepEqual(await devices.findTargets(store.db, appId + 1, ['u1', 'd3']), []);
    });

    test('seqs: a block per device from one counter per app, increasing for every device, apps apart', async () => {
      const first = await allocateSeqs(store.db, appId, new Map([['d1', 1], ['d2', 3]]));
      assert.deepEqual([...first], [['d1', 1], ['d2', 4]], 'd1 gets 1, d2 gets 2–4');
      const second = await allocateSeqs(store.db, appId, new Map([['d1', 2]]));
      assert.equal(second.get('d1'), 6, 'd1 gets 5–6, above everything handed out before');
      assert.deepEqual([...(await allocateSeqs(store.db, appId + 1, new Map([['d1', 1]])))], [['d1', 1]], 'another app counts on its own');
      assert.equal((await allocateSeqs(store.db, appId, new Map())).size, 0);
    });

    test('MsgRandom: the first claim wins, repeats in the window get its TaskId, after the window a new task may claim it', async () => {
      const claim = async (taskId: string, now: number, msgRandom = 77) => {
        const c = { appId, kind: 'batch', msgRandom, taskId };
        const lost = await store.db.transaction().execute((tx) => tasks.claimMsgRandoms(tx, [c], now, 1000));
        return lost.get(c) ?? null;
      };
      assert.equal(await claim('t1', 10_000), null);
      assert.equal(await claim('t2', 10_500), 't1');
      assert.equal(await claim('t3', 11_500), null);
      assert.equal(await claim('t4', 11_600), 't3');
      // many at once: one new, one repeated
      const a = { appId, kind: 'batch', msgRandom: 78, taskId: 't5' };
      const b = { appId, kind: 'batch', msgRandom: 77, taskId: 't6' };
      const lost = await store.db.transaction().execute((tx) => tasks.claimMsgRandoms(tx, [a, b], 11_700, 1000));
      assert.deepEqual([lost.get(a), lost.get(b)], [undefined, 't3']);
    });

    test('inbox: pending rows in seq order, acked, expired and held rows skipped', async () => {
      const message = JSON.stringify({ from: 'a', sentAt: 1, expiresAt: 9e12, info: { PushFlag: 0, Title: 'x' } });
      const task = (id: string) => ({ app_id: appId, task_id: id, kind: 'batch', status: 'accepted', msg_random: 1, from_account: 'a', data_id: null, push_flag: 0, message, request: '{}', target_count: 1, created_at: 1, expires_at: 9e12 });
      await tasks.insertTasks(store.db, ['tk1', 'tk2', 'tk3', 'tk4', 'tk5'].map(task));
      const row = (seq: number, expires: number, deliverAfter = 0) => ({ app_id: appId, registration_id: 'd3', seq, task_id: `tk${seq}`, online_only: 0, created_at: 1, expires_at: expires, acked_at: null, deliver_after: deliverAfter });
      await inbox.insertInbox(store.db, [row(3, 9e12), row(1, 9e12), row(2, 5), row(4, 9e12), row(5, 9e12, 200)]);
      await assert.rejects(inbox.insertInbox(store.db, [{ ...row(6, 9e12), task_id: 'tk1' }]), 'one row per device and task');
      assert.deepEqual((await inbox.pendingFor(store.db, appId, 'd3', 100, 0, 10)).map((r) => r.seq), [1, 3, 4]);
      await inbox.markAcked(store.db, [{ appId, registrationId: 'd3', seqs: [3] }], 50);
      assert.deepEqual((await inbox.pendingFor(store.db, appId, 'd3', 100, 0, 10)).map((r) => r.seq), [1, 4]);
      assert.deepEqual((await inbox.pendingFor(store.db, appId, 'd3', 100, 1, 10)).map((r) => r.seq), [4]);
      assert.deepEqual((await inbox.expiredUnacked(store.db, 100, 10)).map((r) => r.seq), [2]);
      assert.deepEqual(await inbox.pendingFor(store.db, appId + 1, 'd3', 100, 0, 10), []);
      // held for quiet hours until 200
      assert.deepEqual((await inbox.pendingFor(store.db, appId, 'd3', 250, 0, 10)).map((r) => r.seq), [1, 4, 5]);
    });
  });
}
