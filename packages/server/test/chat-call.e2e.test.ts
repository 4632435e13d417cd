import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import webpush from 'web-push';
import { ApnsEmulator, FcmEmulator, HarmonyEmulator, HonorEmulator, HuaweiEmulator, MeizuEmulator, OppoEmulator, VivoEmulator, WebPushEmulator, XiaomiEmulator } from '@herald/emulators';
import type { StoredMessage } from '../src/dispatch/message.js';
import { vendorMessage } from '../src/channels/vendor-channels.js';
import type { VendorAdapter, VendorTarget } from '../src/channels/vendor.js';
import { apnsAdapter } from '../src/channels/vendors/apns.js';
import { fcmAdapter } from '../src/channels/vendors/fcm.js';
import { huaweiAdapter } from '../src/channels/vendors/huawei.js';
import { honorAdapter } from '../src/channels/vendors/honor.js';
import { harmonyAdapter } from '../src/channels/vendors/harmony.js';
import { xiaomiAdapter } from '../src/channels/vendors/xiaomi.js';
import { oppoAdapter } from '../src/channels/vendors/oppo.js';
import { vivoAdapter } from '../src/channels/vendors/vivo.js';
import { meizuAdapter } from '../src/channels/vendors/meizu.js';
import { createWebPushAdapter } from '../src/channels/vendors/webpush.js';
import { webPushEncryption } from '../src/channels/vendors/webpush-encryption.js';

/**
 * Chat and call pushes through every vendor adapter to its emulator, over real sockets: what each
 * vendor receives for a conversation, an unread badge and a call invitation (docs/vendors.md,
 * "Chat and call pushes").
 */

const BADGE_CLASS = 'com.example.app.MainActivity';
let seq = 0;

/** A one-to-one chat message from alice (BadgeSetNum 7, which a target's badge overrides). */
function chat(type: 'c2c' | 'group' = 'c2c'): { taskId: string; stored: StoredMessage } {
  const now = Date.now();
  const stored: StoredMessage = {
    from: 'alice',
    sentAt: now,
    expiresAt: now + 600_000,
    info: { PushFlag: 0, Title: 'Alice', Desc: 'are you there?', Ext: '{"k":1}', BadgeSetNum: 7 },
    chat: { type, id: type === 'c2c' ? 'alice' : 'team-1', senderNick: 'Alice', msgRandom: 42, msgTime: Math.floor(now / 1000) },
  };
  return { taskId: `chat-${++seq}-${now}`, stored };
}

/** A video call from bob that rings for 30 seconds: the push expires with it. */
function call(): { taskId: string; stored: StoredMessage } {
  const now = Date.now();
  const stored: StoredMessage = {
    from: 'bob',
    sentAt: now,
    expiresAt: now + 30_000,
    info: { PushFlag: 0, Title: 'Bob', Desc: 'Incoming video call' },
    call: { callId: 'call-7', roomId: 'room-9', media: 'video', caller: 'bob', callerNick: 'Bob', timeoutSeconds: 30 },
  };
  return { taskId: `call-${++seq}-${now}`, stored };
}

/** What the app reads on every vendor (push-data.ts): the same string pairs. */
const chatData = (taskId: string, convType = 'c2c', convId = 'alice') => ({ id: taskId, ext: '{"k":1}', convType, convId, sender: 'alice' });
const callData = (taskId: string, stored: StoredMessage) => ({ id: taskId, callId: 'call-7', roomId: 'room-9', media: 'video', caller: 'bob', callerNick: 'Bob', timeout: '30', sentAt: String(stored.sentAt) });

const target = (token: string, extra: Partial<VendorTarget> = {}): VendorTarget => ({ registrationId: `r-${token}`, token, locale: null, ...extra });

async function send(adapter: VendorAdapter, config: Record<string, unknown>, push: { taskId: string; stored: StoredMessage }, targets: VendorTarget[]): Promise<void> {
  const results = await adapter.send(config, vendorMessage(push.taskId, push.stored), targets, {});
  assert.deepEqual(results.map((r) => r.outcome), targets.map(() => 'sent'), JSON.stringify(results));
}

/** Starts `emu` for the enclosing describe; `config()` is then the adapter's certificate for it. */
function started<E extends { start(): Promise<string>; stop(): Promise<void> }>(emu: E, makeConfig: () => Record<string, unknown>): () => Record<string, unknown> {
  let config: Record<string, unknown> = {};
  before(async () => {
    await emu.start();
    config = makeConfig();
  });
  after(() => emu.stop());
  return () => config;
}

/** Seconds left before a push made `sentAt` expires 30 s later, as a vendor TTL: within 2 s of 30. */
const about30 = (seconds: number) => assert.ok(seconds >= 28 && seconds <= 30, `ttl ${seconds}`);

describe('chat and call pushes through APNs', () => {
  const emu = new ApnsEmulator();
  const bundle = 'com.example.chat';
  const config = started(emu, () => ({ ...emu.app(bundle), production: false, baseUrl: emu.base, caCertificate: emu.caCertificate }));
  const to = (token: string) => emu.received.filter((r) => r.token === token);

  test("a chat push: thread-id is the conversation, the device's unread count is the badge, the conversation beside aps", async () => {
    const p = chat('group');
    const tok = ApnsEmulator.deviceToken();
    await send(apnsAdapter, config(), p, [target(tok, { badge: 5 })]);
    const [m] = to(tok);
    assert.equal(m!.headers['apns-push-type'], 'alert');
    assert.deepEqual(m!.payload, { aps: { alert: { title: 'Alice', body: 'are you there?' }, badge: 5, 'thread-id': 'group_team-1' }, ...chatData(p.taskId, 'group', 'team-1') });
  });

  test('a call: a VoIP push to the PushKit token with the call for CallKit; without one, a time-sensitive alert', async () => {
    const p = call();
    const voip = ApnsEmulator.deviceToken();
    const alertOnly = ApnsEmulator.deviceToken();
    const t0 = Math.floor(Date.now() / 1000);
    await send(apnsAdapter, config(), p, [target('', { registrationId: 'r-v', voipToken: voip }), target(alertOnly)]);
    const [v] = to(voip);
    assert.deepEqual([v!.headers['apns-push-type'], v!.headers['apns-topic'], v!.headers['apns-priority']], ['voip', `${bundle}.voip`, '10']);
    about30(Number(v!.headers['apns-expiration']) - t0);
    assert.deepEqual(v!.payload, { aps: { alert: { title: 'Bob', body: 'Incoming video call' } }, ...callData(p.taskId, p.stored) });
    const [a] = to(alertOnly);
    assert.deepEqual([a!.headers['apns-push-type'], a!.headers['apns-topic']], ['alert', bundle]);
    assert.deepEqual(a!.payload, { aps: { alert: { title: 'Bob', body: 'Incoming video call' }, 'interruption-level': 'time-sensitive' }, ...callData(p.taskId, p.stored) });
  });

  test('a recalled call: a VoIP cancel (same call, cancelled: true, no alert) on the PushKit token; an overwrite elsewhere', async () => {
    const p = call();
    const voip = ApnsEmulator.deviceToken();
    const alertOnly = ApnsEmulator.deviceToken();
    const targets = [target('', { registrationId: 'r-v', voipToken: voip }), target(alertOnly)];
    await send(apnsAdapter, config(), p, targets);
    await apnsAdapter.recall!(config(), { message: vendorMessage(p.taskId, p.stored), targets });
    const [ring, cancel] = to(voip);
    assert.deepEqual([cancel!.headers['apns-push-type'], cancel!.headers['apns-topic'], cancel!.headers['apns-collapse-id']], ['voip', `${bundle}.voip`, ring!.headers['apns-collapse-id']]);
    assert.deepEqual(cancel!.payload, { aps: {}, ...callData(p.taskId, p.stored), cancelled: true });
    const [, overwrite] = to(alertOnly);
    assert.equal(overwrite!.headers['apns-push-type'], 'alert');
    assert.equal(overwrite!.payload.cancelled, undefined);
    assert.equal(overwrite!.headers['apns-collapse-id'], p.taskId);
  });
});

describe('chat and call pushes through FCM', () => {
  const emu = new FcmEmulator();
  const config = started(emu, () => ({ serviceAccount: emu.serviceAccount('chat-test'), baseUrl: emu.base, caCertificate: emu.caCertificate }));
  const to = (token: string) => emu.received.filter((r) => r.message.token === token).map((r) => r.message as Record<string, any>);

  test('a chat push: the conversation in data (strings), the unread count as notification_count', async () => {
    const p = chat();
    await send(fcmAdapter, config(), p, [target('fcm-chat', { badge: 12 })]);
    const [m] = to('fcm-chat');
    assert.deepEqual(m!.data, chatData(p.taskId));
    assert.equal(m!.android.notification.notification_count, 12);
    assert.equal(m!.android.priority, 'NORMAL');
  });

  test('a call: priority HIGH, PRIORITY_MAX, the call in data, the TTL its ring time', async () => {
    const p = call();
    await send(fcmAdapter, config(), p, [target('fcm-call')]);
    const [m] = to('fcm-call');
    assert.deepEqual(m!.data, callData(p.taskId, p.stored));
    assert.deepEqual([m!.android.priority, m!.android.notification.notification_priority], ['HIGH', 'PRIORITY_MAX']);
    about30(parseInt(m!.android.ttl, 10));
  });
});

describe('chat and call pushes through Huawei', () => {
  const emu = new HuaweiEmulator();
  const config = started(emu, () => ({ ...emu.app(), baseUrl: emu.base, tokenUrl: `${emu.base}/oauth2/v3/token`, badgeClass: BADGE_CLASS }));
  const to = (token: string) => emu.received.filter((r) => r.tokens.includes(token));

  test('a chat push: one request per badge value, grouped by conversation, category IM, the conversation in data', async () => {
    const p = chat();
    await send(huaweiAdapter, config(), p, [target('hw-a', { badge: 3 }), target('hw-b', { badge: 8 }), target('hw-c', { badge: 3 }), target('hw-d')]);
    const requests = [...new Set(['hw-a', 'hw-b', 'hw-c', 'hw-d'].flatMap(to))];
    assert.deepEqual(requests.map((r) => r.tokens).sort(), [['hw-a', 'hw-c'], ['hw-b'], ['hw-d']]);
    const badges = Object.fromEntries(requests.map((r) => [r.tokens[0], (r.message as any).android.notification.badge]));
    assert.deepEqual(badges, { 'hw-a': { set_num: 3, class: BADGE_CLASS }, 'hw-b': { set_num: 8, class: BADGE_CLASS }, 'hw-d': { set_num: 7, class: BADGE_CLASS } }, 'the unread count wins over BadgeSetNum');
    const m = requests[0]!.message as any;
    assert.equal(m.android.notification.group, 'c2c_alice');
    assert.equal(m.android.category, 'IM');
    assert.deepEqual(JSON.parse(m.data), chatData(p.taskId));
  });

  test('a call: category VOIP, urgency HIGH, importance NORMAL, the call in data, the TTL its ring time', async () => {
    const p = call();
    await send(huaweiAdapter, config(), p, [target('hw-call')]);
    const m = to('hw-call')[0]!.message as any;
    assert.deepEqual([m.android.category, m.android.urgency, m.android.notification.importance], ['VOIP', 'HIGH', 'NORMAL']);
    assert.deepEqual(JSON.parse(m.data), callData(p.taskId, p.stored));
    about30(parseInt(m.android.ttl, 10));
  });

  test("the push's own HuaWeiCategory wins, and Huawei refuses one outside its list", async () => {
    const p = call();
    p.stored.info.AndroidInfo = { HuaWeiCategory: 'CALL' };
    const [r] = await huaweiAdapter.send(config(), vendorMessage(p.taskId, p.stored), [target('hw-bad')], {});
    assert.deepEqual([r!.outcome, r!.outcome !== 'sent' && r!.code], ['failed', 80100001]);
    assert.equal(to('hw-bad').length, 0);
  });
});

describe('chat and call pushes through Honor', () => {
  const emu = new HonorEmulator();
  const config = started(emu, () => ({ ...emu.app(), baseUrl: emu.base, tokenUrl: `${emu.base}/auth/token`, badgeClass: BADGE_CLASS }));
  const to = (token: string) => emu.received.filter((r) => r.tokens.includes(token)).map((r) => r.body as any);

  test('a chat push: split by badge, the unread count as setNum, the conversation in data', async () => {
    const p = chat();
    await send(honorAdapter, config(), p, [target('ho-a', { badge: 2 }), target('ho-b', { badge: 4 })]);
    const [a] = to('ho-a');
    const [b] = to('ho-b');
    assert.deepEqual([a.token, b.token], [['ho-a'], ['ho-b']]);
    assert.deepEqual([a.android.notification.badge, b.android.notification.badge], [{ setNum: 2, badgeClass: BADGE_CLASS }, { setNum: 4, badgeClass: BADGE_CLASS }]);
    assert.deepEqual(JSON.parse(a.data), chatData(p.taskId));
  });

  test('a call: importance NORMAL (Honor documents no call category), the call in data, the TTL its ring time', async () => {
    const p = call();
    await send(honorAdapter, config(), p, [target('ho-call')]);
    const [m] = to('ho-call');
    assert.equal(m.android.notification.importance, 'NORMAL');
    assert.deepEqual(JSON.parse(m.data), callData(p.taskId, p.stored));
    about30(parseInt(m.android.ttl, 10));
  });
});

describe('chat and call pushes through HarmonyOS', () => {
  const emu = new HarmonyEmulator();
  const config = started(emu, () => {
    const account = emu.app();
    return { projectId: account.projectId, clientId: account.clientId, serviceAccount: account.serviceAccount, baseUrl: emu.base };
  });
  const to = (token: string) => emu.received.filter((r) => r.tokens.includes(token));

  test('a chat push: category IM, split by badge with the unread count as setNum, the conversation in clickAction.data', async () => {
    const p = chat();
    await send(harmonyAdapter, config(), p, [target('hm-a', { badge: 1 }), target('hm-b', { badge: 150 })]);
    const [a] = to('hm-a');
    const [b] = to('hm-b');
    const n = a!.payload.notification as any;
    assert.deepEqual([a!.tokens, b!.tokens], [['hm-a'], ['hm-b']]);
    assert.deepEqual([n.badge, (b!.payload.notification as any).badge], [{ setNum: 1 }, { setNum: 99 }], 'capped at 99');
    assert.equal(n.category, 'IM');
    assert.deepEqual(n.clickAction.data, chatData(p.taskId));
    assert.equal(a!.pushType, 0);
  });

  test('a call: an alert of category VOIP with the call in clickAction.data, the TTL its ring time', async () => {
    const p = call();
    await send(harmonyAdapter, config(), p, [target('hm-call')]);
    const [m] = to('hm-call');
    const n = m!.payload.notification as any;
    assert.deepEqual([m!.pushType, n.category], [0, 'VOIP']);
    assert.deepEqual(n.clickAction.data, callData(p.taskId, p.stored));
    about30(m!.pushOptions.ttl as number);
  });
});

describe('chat and call pushes through Xiaomi', () => {
  const emu = new XiaomiEmulator();
  const config = started(emu, () => ({ ...emu.app('com.example.chat'), baseUrl: emu.base }));
  const to = (token: string) => emu.received.filter((r) => r.regIds.includes(token));

  test('a chat push and a call: the conversation or the call in payload; the call lives for its ring time', async () => {
    const c = chat();
    await send(xiaomiAdapter, config(), c, [target('mi-chat', { badge: 3 })]);
    assert.deepEqual(JSON.parse(to('mi-chat')[0]!.fields.payload!), chatData(c.taskId));
    const p = call();
    await send(xiaomiAdapter, config(), p, [target('mi-call')]);
    const [m] = to('mi-call');
    assert.deepEqual(JSON.parse(m!.fields.payload!), callData(p.taskId, p.stored));
    about30(Number(m!.fields.time_to_live) / 1000);
  });
});

describe('chat and call pushes through OPPO', () => {
  const emu = new OppoEmulator();
  const config = started(emu, () => ({ ...emu.app(), baseUrl: emu.base }));
  const to = (token: string) => emu.received.filter((r) => r.regIds.includes(token)).map((r) => r.notification);

  test('a chat push: category IM, the conversation in action_parameters', async () => {
    const p = chat();
    await send(oppoAdapter, config(), p, [target('op-chat', { badge: 3 })]);
    const [n] = to('op-chat');
    assert.deepEqual([n!.category, n!.notify_level], ['IM', undefined]);
    assert.deepEqual(JSON.parse(n!.action_parameters as string), chatData(p.taskId));
  });

  test('a call: category IM at notify_level 16, the call in action_parameters, the TTL its ring time', async () => {
    const p = call();
    await send(oppoAdapter, config(), p, [target('op-call')]);
    const [n] = to('op-call');
    assert.deepEqual([n!.category, n!.notify_level], ['IM', 16]);
    assert.deepEqual(JSON.parse(n!.action_parameters as string), callData(p.taskId, p.stored));
    about30(n!.off_line_ttl as number);
  });
});

describe('chat and call pushes through vivo', () => {
  const emu = new VivoEmulator();
  const config = started(emu, () => ({ ...emu.app(), baseUrl: emu.base }));
  const to = (token: string) => emu.received.filter((r) => r.regIds.includes(token)).map((r) => r.message as any);

  test('a chat push to a list and a call: clientCustomMap carries them; a call lives vivo\'s shortest 60 s', async () => {
    const c = chat();
    await send(vivoAdapter, config(), c, [target('vv-a', { badge: 1 }), target('vv-b', { badge: 2 })]);
    assert.equal(emu.received.filter((r) => r.regIds.includes('vv-a')).length, 1, 'vivo sets no badge: one list push for both');
    assert.deepEqual(to('vv-b')[0].clientCustomMap, chatData(c.taskId));
    const p = call();
    await send(vivoAdapter, config(), p, [target('vv-call')]);
    const [m] = to('vv-call');
    assert.deepEqual(m.clientCustomMap, callData(p.taskId, p.stored));
    assert.deepEqual([m.timeToLive, m.classification, m.notifyType], [60, 1, 4]);
  });
});

describe('chat and call pushes through Meizu', () => {
  const emu = new MeizuEmulator();
  const config = started(emu, () => ({ ...emu.app(), baseUrl: emu.base }));
  const to = (token: string) => emu.received.filter((r) => r.pushIds.includes(token)).map((r) => r.message as any);

  test('a group chat push and a call: the conversation or the call in clickTypeInfo.parameters; a call lives Meizu\'s shortest hour', async () => {
    const group = chat('group');
    await send(meizuAdapter, config(), group, [target('mz-a', { badge: 1 }), target('mz-b', { badge: 9 })]);
    const [both] = emu.received.filter((r) => r.pushIds.includes('mz-a'));
    assert.deepEqual(both!.pushIds, ['mz-a', 'mz-b'], 'Meizu sets no badge: one request for both');
    assert.deepEqual((both!.message as any).clickTypeInfo.parameters, chatData(group.taskId, 'group', 'team-1'));
    const p = call();
    await send(meizuAdapter, config(), p, [target('mz-call')]);
    const [m] = to('mz-call');
    assert.deepEqual(m.clickTypeInfo.parameters, callData(p.taskId, p.stored));
    assert.equal(m.pushTimeInfo.validTime, 1);
  });
});

describe('chat and call pushes through Web Push', () => {
  const emu = new WebPushEmulator();
  const encryption = webPushEncryption(0);
  const adapter = createWebPushAdapter(encryption);
  const config = { ...webpush.generateVAPIDKeys(), subject: 'mailto:ops@example.com' };
  before(() => emu.start());
  after(async () => {
    await encryption.close();
    await emu.stop();
  });

  test("a chat push carries the conversation and the device's badge; a call goes at Urgency high for its ring time", async () => {
    const c = chat();
    const s1 = emu.subscribe();
    await send(adapter, config, c, [target(JSON.stringify(s1), { badge: 4 })]);
    const got = emu.received.find((r) => s1.endpoint.endsWith(r.id))!;
    const body = JSON.parse(got.payload);
    assert.deepEqual([body.id, body.badge, body.chat, body.from, got.urgency], [c.taskId, 4, c.stored.chat, 'alice', 'normal']);
    const p = call();
    const s2 = emu.subscribe();
    await send(adapter, config, p, [target(JSON.stringify(s2))]);
    const r = emu.received.find((x) => s2.endpoint.endsWith(x.id))!;
    assert.deepEqual([JSON.parse(r.payload).call, r.urgency], [p.stored.call, 'high']);
    about30(r.ttl);
  });
});
