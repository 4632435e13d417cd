import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, MemoryStorage, type CallCancelledEvent, type CallInvitation, type NotificationClickEvent, type PushMessage } from '@herald/client';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually, lossRows, makeDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

/** An SDK device bound to `user` that records what the app sees. */
async function sdkDevice(h: TestHerald, app: App, user: string) {
  const seen: PushMessage[] = [];
  const calls: CallInvitation[] = [];
  const cancelled: CallCancelledEvent[] = [];
  const clicks: NotificationClickEvent[] = [];
  const client = new HeraldClient({ server: h.url, sdkAppId: app.sdkAppId, appKey: app.appKey, storage: new MemoryStorage(), device: { platform: 'node' }, reconnect: { minDelayMs: 50, maxDelayMs: 200 } });
  client.on('message', (m) => void seen.push(m));
  client.on('call', (c) => void calls.push(c));
  client.on('callCancelled', (c) => void cancelled.push(c));
  client.on('notificationClicked', (c) => void clicks.push(c));
  const { registrationId } = await client.registerPush();
  await client.bindUser(user);
  await client.connect();
  return { client, registrationId, seen, calls, cancelled, clicks };
}

let random = 7000;
const text = (t: string) => [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }];

for (const db of await testDatabases()) {
  describe(`chat message and call push (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    before(async () => {
      h = await startTestHerald(db);
      app = await h.createApp('chat');
    });
    after(async () => h.stop());

    test('a one-to-one message: the online recipient gets the conversation, the sender nickname as title and the text; a click names the conversation', async () => {
      const bob = await sdkDevice(h, app, 'bob');
      const bobOffline = await makeDevice(h.url, app, { user: 'bob' }); // no token: lost on the vendor channel
      const r = await admin(h.url, app, 'chat_push', { From_Account: 'alice', SenderNick: 'Alice', To_Account: 'bob', MsgKey: 'k1', MsgSeq: 9, MsgRandom: random++, MsgBody: text('hi bob'), OfflinePushInfo: { Ext: '{"open":"chat"}' } });
      assert.equal(r.ErrorCode, 0, r.ErrorInfo);
      assert.match(r.PushID, /^chat_/);
      await eventually(async () => bob.seen.length === 1);
      const m = bob.seen[0]!;
      assert.deepEqual([m.id, m.title, m.desc, m.ext, m.from], [r.PushID, 'Alice', 'hi bob', '{"open":"chat"}', 'alice']);
      assert.deepEqual(m.conversation, { type: 'c2c', id: 'alice' });
      assert.equal(m.chat?.msgKey, 'k1');
      assert.equal(m.chat?.msgSeq, 9);
      await bob.client.reportClick(m.id);
      assert.deepEqual(bob.clicks, [{ id: m.id, ext: '{"open":"chat"}', conversation: { type: 'c2c', id: 'alice' } }]);
      await eventually(() => h.herald.store.db.selectFrom('clicks').selectAll().where('task_id', '=', r.PushID).executeTakeFirst());
      await eventually(async () => (await lossRows(h, r.PushID)).some((l) => l.registration_id === bobOffline.registrationId && l.code === -2));
      const task = await admin(h.url, app, 'get_push_task', { TaskId: r.PushID });
      assert.equal(task.Task.Type, 'chat');
      await bob.client.disconnect();
    });

    test('a group message: the sender is not notified, the group name is the title, the custom element Desc the text, and a retried report notifies once', async () => {
      const carol = await sdkDevice(h, app, 'carol');
      const dave = await sdkDevice(h, app, 'dave');
      const body = {
        From_Account: 'dave',
        To_Account: ['carol', 'dave'],
        GroupId: 'g-1',
        GroupName: 'Climbers',
        MsgSeq: 41,
        MsgRandom: random++,
        MsgTime: 1_700_000_000,
        MsgBody: [
          { MsgType: 'TIMImageElem', MsgContent: {} },
          { MsgType: 'TIMCustomElem', MsgContent: { Data: 'x', Desc: 'dave shared a route', Ext: 'route-7' } },
        ],
      };
      const first = await admin(h.url, app, 'chat_push', body);
      const again = await admin(h.url, app, 'chat_push', body);
      assert.equal(again.PushID, first.PushID);
      await eventually(async () => carol.seen.length === 1);
      const m = carol.seen[0]!;
      assert.deepEqual([m.title, m.desc, m.ext], ['Climbers', 'dave shared a route', 'route-7']);
      assert.deepEqual(m.conversation, { type: 'group', id: 'g-1' });
      assert.equal(m.chat?.msgTime, 1_700_000_000);
      // the same message reported for other members of the group is another push
      const rest = await admin(h.url, app, 'chat_push', { ...body, To_Account: ['erin'] });
      assert.notEqual(rest.PushID, first.PushID);
      assert.equal(rest.ErrorList?.[0]?.To_Account, 'erin');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(dave.seen.length, 0);
      assert.equal(carol.seen.length, 1);
      await Promise.all([carol.client.disconnect(), dave.client.disconnect()]);
    });

    test('badges count up per user and the SDK resets them; a muted conversation and do-not-disturb hours notify nobody and are counted as such', async () => {
      const kim = await sdkDevice(h, app, 'kim');
      const send = (from: string, extra: Record<string, unknown> = {}) => admin(h.url, app, 'chat_push', { From_Account: from, To_Account: 'kim', MsgRandom: random++, MsgBody: text(`from ${from}`), ...extra });
      await send('leo');
      await send('leo');
      await eventually(async () => kim.seen.length === 2);
      assert.deepEqual(kim.seen.map((m) => m.badge), [1, 2]);
      await kim.client.resetBadge();
      await send('mia');
      await eventually(async () => kim.seen.length === 3);
      assert.equal(kim.seen[2]!.badge, 1);

      await kim.client.muteConversation('c2c', 'leo');
      const muted = await send('leo');
      const grouped = await send('mia', { GroupId: 'g-2', GroupName: 'Book club' });
      await eventually(async () => kim.seen.length === 4);
      assert.equal(kim.seen[3]!.id, grouped.PushID, 'another conversation still notifies');
      assert.deepEqual((await lossRows(h, muted.PushID)).map((l) => [l.registration_id, l.code]), [[kim.registrationId, -11]]);

      // do-not-disturb around now, in the user's time zone
      const minute = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
      const hhmm = (m: number) => `${String(Math.floor(((m + 1440) % 1440) / 60)).padStart(2, '0')}:${String((m + 1440) % 60).padStart(2, '0')}`;
      await kim.client.setDoNotDisturb({ start: hhmm(minute - 30), end: hhmm(minute + 30), timeZone: 'UTC' });
      const quiet = await send('mia');
      await eventually(async () => (await lossRows(h, quiet.PushID)).some((l) => l.code === -12));
      await kim.client.clearDoNotDisturb();
      await send('mia');
      await eventually(async () => kim.seen.length === 5);
      assert.equal(kim.seen[4]!.badge, 3, 'muted and do-not-disturb messages did not count');
      await kim.client.disconnect();
    });

    test('chat pushes arriving together: each counts the badge one up, and a muted conversation among them is dropped', async () => {
      const pat = await sdkDevice(h, app, 'pat');
      await pat.client.muteConversation('c2c', 'quinn');
      const senders = ['rita', 'sam', 'quinn', 'tess'];
      const sent = await Promise.all(senders.map((from) => admin(h.url, app, 'chat_push', { From_Account: from, To_Account: 'pat', MsgRandom: random++, MsgBody: text(`from ${from}`) })));
      await eventually(async () => pat.seen.length === 3);
      assert.deepEqual(pat.seen.map((m) => m.badge).sort(), [1, 2, 3]);
      assert.deepEqual(pat.seen.map((m) => m.from).sort(), ['rita', 'sam', 'tess']);
      assert.deepEqual((await lossRows(h, sent[2]!.PushID)).map((l) => l.code), [-11]);
      await pat.client.disconnect();
    });

    test('a template fills a chat push with the sender nickname, the group name and the message text', async () => {
      const nia = await sdkDevice(h, app, 'nia');
      const t = await admin(h.url, app, 'set_push_template', { Name: 'group chat', Title: '{{timSenderNick}} in {{timGroupName}}', Desc: '{{timDesc}} ({{room}})' });
      assert.equal(t.ErrorCode, 0, t.ErrorInfo);
      await admin(h.url, app, 'chat_push', {
        From_Account: 'olga',
        SenderNick: 'Olga',
        To_Account: ['nia'],
        GroupId: 'g-9',
        GroupName: 'Runners',
        MsgRandom: random++,
        MsgBody: text('see you at 6'),
        OfflinePushInfo: { PushTemplateId: t.PushTemplateId, PushTemplateParam: { room: 'track' } },
      });
      await eventually(async () => nia.seen.length === 1);
      assert.deepEqual([nia.seen[0]!.title, nia.seen[0]!.desc], ['Olga in Runners', 'see you at 6 (track)']);
      const missing = await admin(h.url, app, 'chat_push', { From_Account: 'olga', To_Account: ['nia'], MsgRandom: random++, MsgBody: text('x'), OfflinePushInfo: { PushTemplateId: t.PushTemplateId } });
      assert.equal(missing.ErrorCode, 90093, 'a placeholder without a value is refused');
      await nia.client.disconnect();
    });

    test('a message with no text (a custom element without Desc) goes online only; an image alone reads "[Image]"', async () => {
      const offline = await makeDevice(h.url, app, { user: 'frank' });
      const silent = await admin(h.url, app, 'chat_push', { From_Account: 'alice', To_Account: 'frank', MsgRandom: random++, MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: 'typing' } }] });
      await eventually(async () => (await lossRows(h, silent.PushID)).some((l) => l.registration_id === offline.registrationId && l.code === -3));
      const grace = await sdkDevice(h, app, 'grace');
      await admin(h.url, app, 'chat_push', { From_Account: 'alice', To_Account: 'grace', MsgRandom: random++, MsgBody: [{ MsgType: 'TIMImageElem', MsgContent: { ImageInfoArray: [] } }] });
      await eventually(async () => grace.seen.length === 1);
      assert.deepEqual([grace.seen[0]!.title, grace.seen[0]!.desc], ['alice', '[Image]']);
      await grace.client.disconnect();
    });

    test('bad chat reports are refused with a clear error', async () => {
      const noBody = await admin(h.url, app, 'chat_push', { From_Account: 'a', To_Account: 'b', MsgRandom: 1, MsgBody: [] });
      assert.equal(noBody.ErrorCode, 90001);
      const twoCustom = await admin(h.url, app, 'chat_push', { From_Account: 'a', To_Account: 'b', MsgRandom: 1, MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: {} }, { MsgType: 'TIMCustomElem', MsgContent: {} }] });
      assert.equal(twoCustom.ErrorCode, 90001);
      assert.match(twoCustom.ErrorInfo, /TIMCustomElem/);
      const toSelf = await admin(h.url, app, 'chat_push', { From_Account: 'a', To_Account: ['a'], MsgRandom: 1, MsgBody: text('x') });
      assert.equal(toSelf.ErrorCode, 90001);
    });

    test('a call: the online callee gets a call event, not a message; cancelling it raises callCancelled; a second cancel is refused', async () => {
      const callee = await sdkDevice(h, app, 'heidi');
      const r = await admin(h.url, app, 'call_push', { From_Account: 'ivan', CallerNick: 'Ivan', To_Account: ['heidi'], CallId: 'call-1', RoomId: 'room-9', MediaType: 'video', Timeout: 45 });
      assert.equal(r.ErrorCode, 0, r.ErrorInfo);
      assert.match(r.PushID, /^call_/);
      await eventually(async () => callee.calls.length === 1);
      const c = callee.calls[0]!;
      assert.deepEqual([c.id, c.callId, c.roomId, c.media, c.caller, c.callerNick, c.timeoutSeconds, c.title, c.desc], [r.PushID, 'call-1', 'room-9', 'video', 'ivan', 'Ivan', 45, 'Ivan', 'Incoming video call']);
      assert.ok(Math.abs(c.expiresAt - c.sentAt - 45_000) < 1000, 'the invitation expires with the call timeout');
      assert.equal(callee.seen.length, 0);
      const cancel = await admin(h.url, app, 'cancel_call', { CallId: 'call-1' });
      assert.deepEqual(cancel.PushIDs, [r.PushID]);
      await eventually(async () => callee.cancelled.length === 1);
      assert.deepEqual(callee.cancelled[0], { id: r.PushID, callId: 'call-1' });
      assert.equal((await admin(h.url, app, 'cancel_call', { CallId: 'call-1' })).ErrorCode, 90050);
      assert.equal((await admin(h.url, app, 'cancel_call', { CallId: 'no-such-call' })).ErrorCode, 90049);
      await callee.client.disconnect();
    });

    test('push records: chat and call pushes listed by their type', async () => {
      const chats = await admin(h.url, app, 'get_push_records', { Type: 'chat', Limit: 100 });
      assert.ok(chats.Records.length > 0);
      assert.ok(chats.Records.every((r: any) => r.Type === 'chat' && r.TaskId.startsWith('chat_')));
      const calls = await admin(h.url, app, 'get_push_records', { Type: ['call'], Limit: 100 });
      assert.ok(calls.Records.length > 0);
      assert.ok(calls.Records.every((r: any) => r.Type === 'call' && r.TaskId.startsWith('call_')));
    });

    test('a call to an offline callee is gone once cancelled: connecting later brings nothing', async () => {
      const storage = new MemoryStorage();
      const later = new HeraldClient({ server: h.url, sdkAppId: app.sdkAppId, appKey: app.appKey, storage, device: { platform: 'node' } });
      const calls: CallInvitation[] = [];
      later.on('call', (c) => void calls.push(c));
      await later.registerPush();
      await later.bindUser('judy');
      await admin(h.url, app, 'call_push', { From_Account: 'ivan', To_Account: 'judy', CallId: 'call-2' });
      await admin(h.url, app, 'cancel_call', { CallId: 'call-2' });
      await later.connect();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(calls.length, 0);
      await later.disconnect();
    });
  });
}
