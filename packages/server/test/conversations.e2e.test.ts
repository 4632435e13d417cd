import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, HeraldError, MemoryStorage } from '@herald/client';
import { dndUsers, filterRecipients } from '../src/dispatch/index.js';
import { conversations, type App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, deviceCall, registerDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

const at = (iso: string) => Date.parse(iso);

/** Resolves to the HeraldError a call failed with. */
async function refusal(call: () => Promise<unknown>): Promise<HeraldError> {
  try {
    await call();
  } catch (err) {
    if (err instanceof HeraldError) return err;
    throw err;
  }
  assert.fail('the call was not refused');
}

for (const db of await testDatabases()) {
  describe(`conversation settings through the SDK and the admin API (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let other: App;
    before(async () => {
      h = await startTestHerald(db);
      app = await h.createApp('conv');
      other = await h.createApp('conv-other');
    });
    after(async () => h.stop());

    const sdk = (a: App, timeZone?: string) =>
      new HeraldClient({ server: h.url, sdkAppId: a.sdkAppId, appKey: a.appKey, storage: new MemoryStorage(), device: { platform: 'node', ...(timeZone ? { timeZone } : {}) } });
    const store = () => h.herald.store.db;

    test('a device without a UserID is refused with no_user', async () => {
      const c = sdk(app);
      await c.registerPush();
      const calls = [() => c.muteConversation('c2c', 'bob'), () => c.getMutedConversations(), () => c.setDoNotDisturb({ start: '22:00', end: '07:00' }), () => c.resetBadge()];
      for (const call of calls) {
        const e = await refusal(call);
        assert.deepEqual([e.status, e.code], [409, 'no_user']);
        assert.match(e.message, /bind/);
      }
    });

    test('mute, list, unmute: shared by the user’s devices, walled from another app’s user of the same UserID', async () => {
      const phone = sdk(app);
      const laptop = sdk(app);
      const elsewhere = sdk(other);
      await phone.bindUser('alice');
      await laptop.bindUser('alice');
      await elsewhere.bindUser('alice');
      const until = Date.now() + 3_600_000;
      await phone.muteConversation('c2c', 'bob');
      await phone.muteConversation('group', 'team_1', new Date(until));
      assert.deepEqual(await laptop.getMutedConversations(), [
        { type: 'c2c', id: 'bob', until: null },
        { type: 'group', id: 'team_1', until },
      ]);
      assert.deepEqual(await elsewhere.getMutedConversations(), []);

      const now = Date.now();
      assert.deepEqual([...(await conversations.mutedUsers(store(), app.sdkAppId, 'c2c_bob', ['alice', 'carol'], now))], ['alice']);
      assert.deepEqual([...(await conversations.mutedUsers(store(), app.sdkAppId, 'group_team_1', ['alice'], now))], ['alice']);
      assert.deepEqual([...(await conversations.mutedUsers(store(), app.sdkAppId, 'group_team_1', ['alice'], until))], [], 'the timed mute is over at its end');
      assert.deepEqual([...(await conversations.mutedUsers(store(), other.sdkAppId, 'c2c_bob', ['alice'], now))], []);

      await laptop.unmuteConversation('c2c', 'bob');
      assert.deepEqual(await phone.getMutedConversations(), [{ type: 'group', id: 'team_1', until }]);
      assert.deepEqual([...(await conversations.mutedUsers(store(), app.sdkAppId, 'c2c_bob', ['alice'], Date.now()))], []);
      await Promise.all([phone.disconnect(), laptop.disconnect(), elsewhere.disconnect()]);
    });

    test('do-not-disturb: set in the user’s zone or the device’s, read back, cleared', async () => {
      const own = sdk(app, 'America/New_York');
      await own.bindUser('dave');
      await own.setDoNotDisturb({ start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' });
      assert.deepEqual(await own.getDoNotDisturb(), { start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' });
      const byDevice = sdk(app, 'America/New_York');
      await byDevice.bindUser('erin');
      await byDevice.setDoNotDisturb({ start: '22:00', end: '07:00' });
      const walled = sdk(other);
      await walled.bindUser('dave');

      // 15:30 UTC: 23:30 in Shanghai (dave in DND), 10:30 in New York (erin not)
      assert.deepEqual([...(await dndUsers(store(), app.sdkAppId, ['dave', 'erin', 'fay'], at('2026-11-26T15:30:00Z')))], ['dave']);
      // 04:00 UTC: 12:00 in Shanghai, 23:00 in New York
      assert.deepEqual([...(await dndUsers(store(), app.sdkAppId, ['dave', 'erin'], at('2026-11-26T04:00:00Z')))], ['erin']);
      assert.deepEqual([...(await dndUsers(store(), other.sdkAppId, ['dave', 'erin'], at('2026-11-26T15:30:00Z')))], []);
      const split = await filterRecipients(store(), app.sdkAppId, { type: 'c2c', id: 'zed' }, ['dave', 'erin', 'fay'], at('2026-11-26T15:30:00Z'));
      assert.deepEqual(split, { notify: ['erin', 'fay'], muted: [], dnd: ['dave'] });

      await own.clearDoNotDisturb();
      assert.equal(await own.getDoNotDisturb(), null);
      assert.deepEqual([...(await dndUsers(store(), app.sdkAppId, ['dave'], at('2026-11-26T15:30:00Z')))], []);
      await Promise.all([own.disconnect(), byDevice.disconnect(), walled.disconnect()]);
    });

    test('badge: counted up by the chat push, set and reset by the SDK, per app', async () => {
      const c = sdk(app);
      await c.bindUser('gus');
      const walled = sdk(other);
      await walled.bindUser('gus');
      const bump = (a: App) => store().transaction().execute((tx) => conversations.incrementBadges(tx, a.sdkAppId, ['gus'], Date.now()));
      assert.equal((await bump(app)).get('gus'), 1);
      assert.equal((await bump(app)).get('gus'), 2);
      await c.resetBadge();
      assert.equal((await conversations.getBadges(store(), app.sdkAppId, ['gus'])).get('gus'), 0);
      assert.equal((await bump(app)).get('gus'), 1);
      await c.setBadge(7);
      assert.equal((await bump(app)).get('gus'), 8);
      assert.equal((await bump(other)).get('gus'), 1, 'the other app counts its own gus');
      await walled.resetBadge();
      assert.equal((await conversations.getBadges(store(), app.sdkAppId, ['gus'])).get('gus'), 8);
      await Promise.all([c.disconnect(), walled.disconnect()]);
    });

    test('bad input is refused with the field named', async () => {
      const c = sdk(app);
      await c.bindUser('hal');
      const cases: Array<[() => Promise<unknown>, RegExp]> = [
        [() => c.setDoNotDisturb({ start: '24:00', end: '07:00' }), /start/],
        [() => c.setDoNotDisturb({ start: '7:00', end: '08:00' }), /start/],
        [() => c.setDoNotDisturb({ start: '08:00', end: '08:00' }), /differ/],
        [() => c.setDoNotDisturb({ start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' }), /timeZone/],
        [() => c.muteConversation('c2c', 'bob', Date.now() - 1000), /until/],
        [() => c.muteConversation('channel' as 'c2c', 'bob'), /type/],
        [() => c.muteConversation('group', ''), /id/],
        [() => c.setBadge(-1), /count/],
        [() => c.setBadge(1.5), /count/],
      ];
      for (const [call, field] of cases) {
        const e = await refusal(call);
        assert.deepEqual([e.status, e.code], [400, 'invalid_request']);
        assert.match(e.message, field);
      }
      assert.deepEqual(await c.getMutedConversations(), []);
      assert.equal(await c.getDoNotDisturb(), null);
      await c.disconnect();
    });

    test('the device API answers 401 to a wrong credential before looking at the user', async () => {
      const d = await registerDevice(h.url, app);
      const r = await deviceCall(h.url, app, 'GET', '/device/v1/mutes', undefined, { ...d, credential: 'wrong' });
      assert.deepEqual([r.status, r.body.error.code], [401, 'invalid_credential']);
    });

    test('admin: set_conversation_mute, get_conversation_mute, set_badge, get_badge', async () => {
      const until = Math.floor(Date.now() / 1000) + 600;
      assert.equal((await admin(h.url, app, 'set_conversation_mute', { UserID: 'ivy', ConversationType: 'C2C', ConversationID: 'bob' })).ErrorCode, 0);
      assert.equal((await admin(h.url, app, 'set_conversation_mute', { UserID: 'ivy', ConversationType: 'Group', ConversationID: 'g_1', MutedUntil: until })).ErrorCode, 0);
      const got = await admin(h.url, app, 'get_conversation_mute', { UserID: 'ivy' });
      assert.deepEqual(got.Conversations, [
        { ConversationType: 'C2C', ConversationID: 'bob', MutedUntil: null },
        { ConversationType: 'Group', ConversationID: 'g_1', MutedUntil: until },
      ]);
      assert.deepEqual([...(await conversations.mutedUsers(store(), app.sdkAppId, 'group_g_1', ['ivy'], Date.now()))], ['ivy']);
      assert.deepEqual((await admin(h.url, other, 'get_conversation_mute', { UserID: 'ivy' })).Conversations, []);
      await admin(h.url, app, 'set_conversation_mute', { UserID: 'ivy', ConversationType: 'C2C', ConversationID: 'bob', MutedUntil: 0 });
      assert.deepEqual((await admin(h.url, app, 'get_conversation_mute', { UserID: 'ivy' })).Conversations.map((c: { ConversationID: string }) => c.ConversationID), ['g_1']);

      assert.equal((await admin(h.url, app, 'set_badge', { UserID: 'ivy', Badge: 12 })).ErrorCode, 0);
      assert.deepEqual((await admin(h.url, app, 'get_badge', { UserID: ['ivy', 'nobody'] })).Badges, [{ UserID: 'ivy', Badge: 12 }, { UserID: 'nobody', Badge: 0 }]);
      assert.deepEqual((await admin(h.url, other, 'get_badge', { UserID: 'ivy' })).Badges, [{ UserID: 'ivy', Badge: 0 }]);

      const bad = [
        ['set_conversation_mute', { UserID: 'ivy', ConversationType: 'c2c', ConversationID: 'bob' }, /ConversationType/],
        ['set_conversation_mute', { UserID: 'ivy', ConversationType: 'C2C', ConversationID: 'bob', MutedUntil: 1000 }, /MutedUntil/],
        ['set_badge', { UserID: 'ivy', Badge: -1 }, /Badge/],
        ['get_badge', { UserID: [] }, /UserID/],
      ] as const;
      for (const [command, body, field] of bad) {
        const r = await admin(h.url, app, command, body);
        assert.deepEqual([r.ActionStatus, r.ErrorCode], ['FAIL', 90001], command);
        assert.match(r.ErrorInfo, field);
      }
    });
  });
}
