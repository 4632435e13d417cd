import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, MemoryStorage, type NotificationClickEvent, type PushMessage } from '@herald/client';
import { ApnsEmulator, HuaweiEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually, registerDevice, deviceCall, startTestHerald, type TestHerald } from './helpers/herald.js';

const BUNDLE = 'com.example.chat';
let random = 91_000;
const text = (t: string) => [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }];

/**
 * Chat and call pushes end to end: the IM or RTC backend calls the admin API, online recipients
 * get them over the SDK, offline ones through the APNs and Huawei emulators, which keep exactly
 * what they received.
 */
for (const db of await testDatabases()) {
  describe(`chat and call pushes to online and offline devices (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let apns: ApnsEmulator;
    let hms: HuaweiEmulator;
    let apnsCert: number;
    let hmsCert: number;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const iphone = async (user: string, token: string, voipToken?: string) => {
      const d = await registerDevice(h.url, app, { platform: 'ios', vendor: 'apns', token, certificateId: apnsCert, ...(voipToken ? { voipToken } : {}) });
      await deviceCall(h.url, app, 'POST', '/device/v1/bind', { userId: user }, d);
      return d;
    };
    const huawei = async (user: string, token: string) => {
      const d = await registerDevice(h.url, app, { platform: 'android', vendor: 'huawei', token, certificateId: hmsCert });
      await deviceCall(h.url, app, 'POST', '/device/v1/bind', { userId: user }, d);
      return d;
    };
    const apnsTo = (token: string) => apns.received.filter((r) => r.token === token);
    const hmsTo = (token: string) => hms.received.filter((r) => r.tokens.includes(token)).map((r) => r.message);

    before(async () => {
      apns = new ApnsEmulator();
      hms = new HuaweiEmulator();
      await Promise.all([apns.start(), hms.start()]);
      h = await startTestHerald(db);
      app = await h.createApp('chat-offline');
      const a = await call('set_certificate', { Vendor: 'apns', Name: 'ios', Config: { ...apns.app(BUNDLE), production: false, baseUrl: apns.base, caCertificate: apns.caCertificate } });
      const { clientId, clientSecret } = hms.app();
      const b = await call('set_certificate', { Vendor: 'huawei', Name: 'hms', Config: { clientId, clientSecret, baseUrl: hms.base, tokenUrl: `${hms.base}/oauth2/v3/token`, badgeClass: 'com.example.chat.Main' } });
      apnsCert = a.CertId;
      hmsCert = b.CertId;
    });
    after(async () => {
      await h.stop();
      await Promise.all([apns.stop(), hms.stop()]);
    });

    test('one-to-one then group: the online device and both vendors get the text, the grouping id, the unread badge and the conversation to open', async () => {
      const seen: PushMessage[] = [];
      const clicks: NotificationClickEvent[] = [];
      const sdk = new HeraldClient({ server: h.url, sdkAppId: app.sdkAppId, appKey: app.appKey, storage: new MemoryStorage(), device: { platform: 'node' } });
      sdk.on('message', (m) => void seen.push(m));
      sdk.on('notificationClicked', (c) => void clicks.push(c));
      await sdk.registerPush();
      await sdk.bindUser('bob');
      await sdk.connect();
      const bobPhone = ApnsEmulator.deviceToken();
      await iphone('bob', bobPhone);
      await huawei('bob', 'hw-bob');
      const carolPhone = ApnsEmulator.deviceToken();
      await iphone('carol', carolPhone);

      const one = await call('chat_push', { From_Account: 'alice', SenderNick: 'Alice', To_Account: 'bob', MsgKey: 'k-1', MsgRandom: random++, MsgBody: text('lunch?'), OfflinePushInfo: { Ext: '{"open":"chat"}' } });
      await eventually(async () => seen.length === 1 && apnsTo(bobPhone).length === 1 && hmsTo('hw-bob').length === 1);
      assert.deepEqual([seen[0]!.title, seen[0]!.desc, seen[0]!.badge, seen[0]!.conversation], ['Alice', 'lunch?', 1, { type: 'c2c', id: 'alice' }]);
      const ios = apnsTo(bobPhone)[0]!;
      assert.deepEqual(ios.payload, {
        aps: { alert: { title: 'Alice', body: 'lunch?' }, badge: 1, 'thread-id': 'c2c_alice' },
        id: one.PushID,
        ext: '{"open":"chat"}',
        convType: 'c2c',
        convId: 'alice',
        sender: 'alice',
      });
      const android = hmsTo('hw-bob')[0]! as { android: { notification: Record<string, unknown>; category?: string }; data: string };
      assert.equal(android.android.notification.group, 'c2c_alice');
      assert.deepEqual(android.android.notification.badge, { class: 'com.example.chat.Main', set_num: 1 });
      assert.deepEqual(JSON.parse(android.data), { id: one.PushID, convType: 'c2c', convId: 'alice', sender: 'alice', ext: '{"open":"chat"}' });

      const group = await call('chat_push', { From_Account: 'alice', To_Account: ['bob', 'carol'], GroupId: 'g-7', GroupName: 'Lunch crew', MsgSeq: 3, MsgRandom: random++, MsgBody: text('12:30 at the usual') });
      await eventually(async () => seen.length === 2 && apnsTo(bobPhone).length === 2 && apnsTo(carolPhone).length === 1);
      assert.equal(seen[1]!.badge, 2);
      const [bobGroup, carolGroup] = [apnsTo(bobPhone)[1]!.payload, apnsTo(carolPhone)[0]!.payload] as { aps: Record<string, unknown> }[];
      assert.deepEqual([bobGroup!.aps['thread-id'], bobGroup!.aps.badge, (bobGroup!.aps.alert as { title: string }).title], ['group_g-7', 2, 'Lunch crew']);
      assert.deepEqual([carolGroup!.aps['thread-id'], carolGroup!.aps.badge], ['group_g-7', 1]);

      // the user taps the notification APNs showed: the app hands its custom keys to the SDK
      const { aps: _aps, ...custom } = apnsTo(carolPhone)[0]!.payload as Record<string, unknown>;
      assert.equal(await sdk.handleNotificationClick(custom), true);
      assert.deepEqual(clicks, [{ id: group.PushID, conversation: { type: 'group', id: 'g-7' } }]);
      await eventually(() => h.herald.store.db.selectFrom('clicks').selectAll().where('task_id', '=', group.PushID).executeTakeFirst());
      assert.equal(await sdk.handleNotificationClick({ aps: {} }), false);
      await sdk.disconnect();
    });

    test('a call to offline iPhones: VoIP where a PushKit token is known, a time-sensitive alert where not; cancelled, the VoIP callee gets the cancel and the other a missed call', async () => {
      const [alertA, voipA, alertB] = [ApnsEmulator.deviceToken(), ApnsEmulator.deviceToken(), ApnsEmulator.deviceToken()];
      await iphone('dan', alertA, voipA);
      await iphone('eve', alertB);
      const r = await call('call_push', { From_Account: 'fay', CallerNick: 'Fay', To_Account: ['dan', 'eve'], CallId: 'c-42', RoomId: 'r-1', MediaType: 'audio', Timeout: 40 });
      await eventually(async () => apnsTo(voipA).length === 1 && apnsTo(alertB).length === 1);
      const ring = apnsTo(voipA)[0]!;
      assert.deepEqual([ring.headers['apns-push-type'], ring.headers['apns-topic']], ['voip', `${BUNDLE}.voip`]);
      const expiresIn = Number(ring.headers['apns-expiration']) - Math.floor(Date.now() / 1000);
      assert.ok(expiresIn > 30 && expiresIn <= 41, `the VoIP push expires with the call (${expiresIn} s)`);
      assert.deepEqual(
        { ...(ring.payload as Record<string, unknown>), sentAt: 'x' },
        { aps: { alert: { title: 'Fay', body: 'Incoming voice call' } }, id: r.PushID, callId: 'c-42', roomId: 'r-1', media: 'audio', caller: 'fay', callerNick: 'Fay', timeout: '40', sentAt: 'x' },
      );
      assert.equal(apnsTo(alertA).length, 0, 'the alert token is not rung when a VoIP token is known');
      const alert = apnsTo(alertB)[0]!;
      assert.equal(alert.headers['apns-push-type'], 'alert');
      assert.equal((alert.payload as { aps: Record<string, unknown> }).aps['interruption-level'], 'time-sensitive');

      const cancel = await call('cancel_call', { CallId: 'c-42' });
      assert.deepEqual(cancel.PushIDs, [r.PushID]);
      await eventually(async () => apnsTo(voipA).length === 2 && apnsTo(alertB).length === 2);
      const end = apnsTo(voipA)[1]!;
      assert.equal(end.headers['apns-push-type'], 'voip');
      assert.equal((end.payload as Record<string, unknown>).cancelled, true);
      assert.equal((end.payload as Record<string, unknown>).callId, 'c-42');
      const missed = apnsTo(alertB)[1]!;
      assert.equal(missed.headers['apns-collapse-id'], alert.headers['apns-collapse-id'], 'the missed call takes the place of the invitation');
      assert.deepEqual((missed.payload as { aps: { alert: unknown } }).aps.alert, { title: 'Fay', body: 'Missed voice call' });
    });
  });
}
