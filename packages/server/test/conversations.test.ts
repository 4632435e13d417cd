import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { filterRecipients, dndUsers } from '../src/dispatch/index.js';
import { apps, conversations, devices, openStore, type Store } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';

const at = (iso: string) => Date.parse(iso);

for (const tdb of await testDatabases()) {
  describe(`conversation settings store (${tdb.name})`, () => {
    let store: Store;
    let created: Awaited<ReturnType<typeof tdb.create>>;
    let appId: number;
    let otherId: number;
    before(async () => {
      created = await tdb.create();
      store = await openStore(created);
      appId = (await apps.createApp(store.db, 'conv')).sdkAppId;
      otherId = (await apps.createApp(store.db, 'conv-other')).sdkAppId;
    });
    after(async () => {
      await store.close();
      await created.drop();
    });

    test('mutes: until unmuted, until a time, replaced, lifted; one app only', async () => {
      const db = store.db;
      const now = 1_000_000;
      await conversations.mute(db, appId, 'ann', 'c2c_bob', null, now);
      await conversations.mute(db, appId, 'ben', 'c2c_bob', now + 60_000, now);
      await conversations.mute(db, appId, 'cid', 'c2c_bob', now - 1, now);
      await conversations.mute(db, appId, 'ann', 'group_g1', now + 1000, now + 1);
      await conversations.mute(db, otherId, 'dan', 'c2c_bob', null, now);
      const users = ['ann', 'ben', 'cid', 'dan', 'ann'];
      assert.deepEqual([...(await conversations.mutedUsers(db, appId, 'c2c_bob', users, now))].sort(), ['ann', 'ben']);
      assert.deepEqual([...(await conversations.mutedUsers(db, appId, 'c2c_bob', users, now + 60_000))], ['ann'], 'a timed mute ends');
      assert.deepEqual([...(await conversations.mutedUsers(db, otherId, 'c2c_bob', users, now))], ['dan']);
      assert.deepEqual([...(await conversations.mutedUsers(db, appId, 'c2c_bob', [], now))], []);
      assert.deepEqual(await conversations.mutesOf(db, appId, 'ann', now), [
        { conversation: 'c2c_bob', mutedUntil: null },
        { conversation: 'group_g1', mutedUntil: now + 1000 },
      ]);
      await conversations.mute(db, appId, 'cid', 'group_g2', null, now);
      const cidRows = await db.selectFrom('conversation_mutes').select('conversation').where('app_id', '=', appId).where('user_id', '=', 'cid').execute();
      assert.deepEqual(cidRows.map((r) => r.conversation), ['group_g2'], 'a run-out mute is cleared by the next');
      await conversations.mute(db, appId, 'ann', 'c2c_bob', now + 5, now + 2);
      assert.deepEqual((await conversations.mutesOf(db, appId, 'ann', now + 10)).map((m) => m.conversation), ['group_g1'], 'the later mute replaced the earlier');
      assert.equal(await conversations.unmute(db, appId, 'ann', 'group_g1'), true);
      assert.equal(await conversations.unmute(db, appId, 'ann', 'group_g1'), false);
      assert.equal(await conversations.unmute(db, otherId, 'ben', 'c2c_bob'), false, 'another app cannot lift it');
      assert.deepEqual([...(await conversations.mutedUsers(db, appId, 'c2c_bob', ['ben'], now))], ['ben']);
    });

    test('do-not-disturb: own zone, else the latest device zone, else UTC; one app only', async () => {
      const db = store.db;
      const night = { startMinute: 22 * 60, endMinute: 8 * 60 };
      // own zone
      await conversations.setDnd(db, appId, 'tom', { ...night, timeZone: 'Asia/Shanghai' }, 1);
      // no zone: the most recently updated device that has one (Tokyo), not the older one (New York)
      await conversations.setDnd(db, appId, 'uma', { ...night, timeZone: null }, 1);
      await devices.insertDevice(db, { app_id: appId, registration_id: 'uma-1', install_id: 'inst-uma-1', platform: 'node', credential_hash: 'h', fields: { timeZone: 'America/New_York' } }, 10);
      await devices.insertDevice(db, { app_id: appId, registration_id: 'uma-2', install_id: 'inst-uma-2', platform: 'node', credential_hash: 'h', fields: { timeZone: 'Asia/Tokyo' } }, 20);
      await devices.insertDevice(db, { app_id: appId, registration_id: 'uma-3', install_id: 'inst-uma-3', platform: 'node', credential_hash: 'h', fields: {} }, 30);
      for (const id of ['uma-1', 'uma-2', 'uma-3']) await db.updateTable('devices').set({ user_id: 'uma' }).where('app_id', '=', appId).where('registration_id', '=', id).execute();
      // no zone, no device: UTC
      await conversations.setDnd(db, appId, 'vic', { ...night, timeZone: null }, 1);
      // the same UserID in another app, in UTC all day long
      await conversations.setDnd(db, otherId, 'wes', { startMinute: 0, endMinute: 1439, timeZone: 'UTC' }, 1);

      const everyone = ['tom', 'uma', 'vic', 'wes', 'nobody'];
      // 15:30 UTC: 23:30 Shanghai, 00:30 Tokyo, 15:30 UTC
      assert.deepEqual([...(await dndUsers(db, appId, everyone, at('2026-11-26T15:30:00Z')))].sort(), ['tom', 'uma']);
      // 23:30 UTC: 07:30 Shanghai, 08:30 Tokyo, 23:30 UTC
      assert.deepEqual([...(await dndUsers(db, appId, everyone, at('2026-11-26T23:30:00Z')))].sort(), ['tom', 'vic']);
      assert.deepEqual([...(await dndUsers(db, otherId, everyone, at('2026-11-26T12:00:00Z')))], ['wes']);
      const hours = await conversations.dndHoursOf(db, appId, ['uma']);
      assert.deepEqual(hours.get('uma'), { ...night, timeZone: null, effectiveTimeZone: 'Asia/Tokyo' });

      assert.equal(await conversations.clearDnd(db, appId, 'tom'), true);
      assert.equal(await conversations.clearDnd(db, appId, 'tom'), false);
      assert.deepEqual([...(await dndUsers(db, appId, ['tom'], at('2026-11-26T15:30:00Z')))], []);
    });

    test('a chat message’s recipients split into notify, muted and do-not-disturb', async () => {
      const db = store.db;
      const now = at('2026-11-26T03:00:00Z');
      await conversations.mute(db, appId, 'm1', 'group_team', null, now);
      await conversations.mute(db, appId, 'm2', 'c2c_team', null, now); // another conversation
      await conversations.setDnd(db, appId, 'm1', { startMinute: 0, endMinute: 360, timeZone: 'UTC' }, now);
      await conversations.setDnd(db, appId, 'm3', { startMinute: 0, endMinute: 360, timeZone: 'UTC' }, now);
      const split = await filterRecipients(db, appId, { type: 'group', id: 'team' }, ['m1', 'm2', 'm3', 'm4', 'm2'], now);
      assert.deepEqual(split, { notify: ['m2', 'm4'], muted: ['m1'], dnd: ['m3'] });
    });

    test('badges: increment many at once, returning the new counts; set, read; one app only', async () => {
      const db = store.db;
      await conversations.setBadge(db, appId, 'b1', 5, 1);
      await conversations.setBadge(db, otherId, 'b2', 40, 1);
      const first = await db.transaction().execute((tx) => conversations.incrementBadges(tx, appId, ['b1', 'b2', 'b3', 'b1'], 2));
      assert.deepEqual(Object.fromEntries(first), { b1: 6, b2: 1, b3: 1 });
      const second = await db.transaction().execute((tx) => conversations.incrementBadges(tx, appId, ['b2', 'b3'], 3));
      assert.deepEqual(Object.fromEntries(second), { b2: 2, b3: 2 });
      assert.deepEqual(Object.fromEntries(await db.transaction().execute((tx) => conversations.incrementBadges(tx, appId, [], 4))), {});
      await conversations.setBadge(db, appId, 'b1', 0, 5);
      assert.deepEqual(Object.fromEntries(await conversations.getBadges(db, appId, ['b1', 'b2', 'b3', 'b4'])), { b1: 0, b2: 2, b3: 2, b4: 0 });
      assert.deepEqual(Object.fromEntries(await conversations.getBadges(db, otherId, ['b2', 'b3'])), { b2: 40, b3: 0 });
      // a rolled back transaction counts nothing
      await assert.rejects(
        db.transaction().execute(async (tx) => {
          await conversations.incrementBadges(tx, appId, ['b2'], 6);
          throw new Error('rollback');
        }),
        /rollback/,
      );
      assert.equal((await conversations.getBadges(db, appId, ['b2'])).get('b2'), 2);
    });

    test('badges: a list longer than one statement chunk', async () => {
      const users = Array.from({ length: 1203 }, (_, i) => `many-${i}`);
      const counts = await store.db.transaction().execute((tx) => conversations.incrementBadges(tx, appId, users, 1));
      assert.equal(counts.size, 1203);
      assert.ok([...counts.values()].every((c) => c === 1));
      assert.equal((await conversations.getBadges(store.db, appId, users)).size, 1203);
    });
  });
}
