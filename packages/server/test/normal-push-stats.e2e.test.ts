import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StoredMessage } from '../src/dispatch/message.js';
import { newTaskId, type TaskKind } from '../src/dispatch/task-id.js';
import { LossReason } from '../src/stats/loss-reasons.js';
import { lossEntries, type StatDevice, type StatEntry } from '../src/stats/recorder.js';
import { tasks, type App } from '../src/store/index.js';
import { CallbackEndpoint } from './helpers/callback-endpoint.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, deviceCall, eventually, makeDevice, registerDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

const TOKEN = 'normal-push-token-42';
const now = () => Math.floor(Date.now() / 1000);
const window = (extra: Record<string, unknown> = {}) => ({ StartTime: now() - 3600, EndTime: now() + 60, ...extra });

for (const db of await testDatabases()) {
  describe(`normal push statistics: chat and call pushes in family 1 (${db.name})`, () => {
    let h: TestHerald;
    let sink: CallbackEndpoint;
    let app: App;
    let other: App;
    const call = (command: string, body: unknown, a: App = app) => admin(h.url, a, command, body);
    /** Devices: bob online (b1) and offline without a token (b2), carol on Xiaomi twice, alice the sender. */
    const dev: Record<string, string> = {};
    const ids: Record<'c2c' | 'group' | 'call' | 'batch', string> = { c2c: '', group: '', call: '', batch: '' };
    let callTaskTime = 0;

    /** A task row as the push acceptor stores it: kind, sender, request and message. */
    async function insertTask(kind: TaskKind, from: string, msgRandom: number, request: Record<string, unknown>, extra: Partial<StoredMessage> = {}): Promise<string> {
      const at = Date.now();
      const taskId = newTaskId(kind, app.sdkAppId, msgRandom, at);
      const message: StoredMessage = { from, sentAt: at, expiresAt: at + 3_600_000, info: { PushFlag: 0, Title: 't', Desc: 'd' }, ...extra };
      await tasks.insertTasks(h.herald.store.db, [
        { app_id: app.sdkAppId, task_id: taskId, kind, status: 'accepted', msg_random: msgRandom, from_account: from, data_id: null, push_flag: 0, message: JSON.stringify(message), request: JSON.stringify(request), target_count: 0, created_at: at, expires_at: at + 3_600_000, audience: null, push_speed: null, policy: null, revoked_at: null, finished_at: null },
      ]);
      return taskId;
    }

    before(async () => {
      sink = await new CallbackEndpoint().start();
      h = await startTestHerald(db, {}, { callbacks: { pollMs: 50 } });
      app = await h.createApp('normal');
      other = await h.createApp('other');
      const set = await call('set_callback', { Url: sink.url, Token: TOKEN });
      assert.equal(set.ActionStatus, 'OK', JSON.stringify(set));
      dev.b1 = (await makeDevice(h.url, app, { user: 'bob' })).registrationId;
      dev.b2 = (await makeDevice(h.url, app, { user: 'bob' })).registrationId;
      dev.a1 = (await makeDevice(h.url, app, { user: 'alice' })).registrationId;
      for (const k of ['c1', 'c2']) {
        const d = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: `mi-${k}` });
        await deviceCall(h.url, app, 'POST', '/device/v1/bind', { userId: 'carol' }, d);
        dev[k] = d.registrationId;
      }

      ids.c2c = await insertTask('chat', 'alice', 501, { From_Account: 'alice', To_Account: 'bob' }, { chat: { type: 'c2c', id: 'alice', msgKey: 'k-1', msgSeq: 5, msgRandom: 501, msgTime: 1_700_000_001 } });
      ids.group = await insertTask('chat', 'alice', 502, { From_Account: 'alice', To_Account: ['bob', 'carol', 'alice'], GroupId: 'g-7' }, { chat: { type: 'group', id: 'g-7', groupName: 'Climbers', msgSeq: 77, msgRandom: 502, msgTime: 1_700_000_002 } });
      ids.call = await insertTask('call', 'ivan', 503, { From_Account: 'ivan', To_Account: ['bob'], CallId: 'call-9' }, { call: { callId: 'call-9', media: 'video', caller: 'ivan', timeoutSeconds: 30 } });
      ids.batch = await insertTask('batch', 'administrator', 504, { From_Account: 'administrator', To_Account: ['bob'] });
      callTaskTime = Math.floor(Number((await tasks.findTask(h.herald.store.db, app.sdkAppId, ids.call))!.created_at) / 1000);

      // what the gateway, the vendor channels and the clicks report: the devices only, never the family
      const gw = (taskId: string) => ({ appId: app.sdkAppId, taskId, eventType: 2 as const });
      const mi = (taskId: string) => ({ appId: app.sdkAppId, taskId, eventType: 1 as const });
      const on = (k: string): StatDevice[] => [{ registrationId: dev[k]!, platform: 0 }];
      const viaMi = (k: string): StatDevice[] => [{ registrationId: dev[k]!, platform: 2, userId: 'carol', devicePlatform: 2 }];
      const inTx: StatEntry[] = [
        { ...gw(ids.c2c), metric: 'sendable', count: 2, platform: 0 },
        ...lossEntries(mi(ids.c2c), LossReason.noToken, { devices: on('b2') }, true),
        { ...gw(ids.group), metric: 'sendable', count: 1, platform: 0 },
        { ...mi(ids.group), metric: 'sendable', devices: [...viaMi('c1'), ...viaMi('c2')] },
        { ...gw(ids.call), metric: 'sendable', count: 1, platform: 0 },
        { ...gw(ids.batch), metric: 'sendable', count: 1, platform: 0 },
      ];
      await h.herald.store.db.transaction().execute((tx) => h.herald.stats.write(tx, inTx));
      h.herald.stats.add([
        { ...gw(ids.c2c), metric: 'sent', devices: on('b1') },
        { ...gw(ids.c2c), metric: 'reached', devices: on('b1') },
        { ...gw(ids.c2c), metric: 'clicked', devices: on('b1') },
        { ...gw(ids.group), metric: 'sent', devices: on('b1') },
        { ...gw(ids.group), metric: 'reached', devices: on('b1') },
        { ...mi(ids.group), metric: 'sent', devices: [...viaMi('c1'), ...viaMi('c2')], trace: 'vendor_sent', info: 'xiaomi certificate 1' },
        { ...mi(ids.group), metric: 'reached', devices: viaMi('c1'), trace: 'vendor_reached' },
        { ...mi(ids.group), metric: 'loss_post', code: 16, reason: 'xiaomi receipt: invalid regId', devices: viaMi('c2'), trace: 'vendor_lost' },
        { ...gw(ids.call), metric: 'sent', devices: on('b1') },
        { ...gw(ids.batch), metric: 'sent', devices: on('b1') },
      ]);
      await h.herald.flush();
      await h.herald.stats.flush();
    });
    after(async () => {
      await h.stop();
      await sink.stop();
    });

    test('counters: chat and call pushes land in family 1 from their task ids, the batch push in family 0', async () => {
      const rows = await h.herald.store.db.selectFrom('stat_counters').select(['task_id', 'family']).distinct().where('app_id', '=', app.sdkAppId).execute();
      const family = Object.fromEntries(rows.map((r) => [r.task_id, Number(r.family)]));
      assert.deepEqual(family, { [ids.c2c]: 1, [ids.group]: 1, [ids.call]: 1, [ids.batch]: 0 });
    });

    test('normal_push_statistics: the funnel of chat and call pushes per platform, and the rates; all_member_push_statistics keeps to family 0', async () => {
      const r = await call('normal_push_statistics', window());
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      // sendable: c2c 2 gateway + 1 vendor, group 1 + 2, call 1; sent: 1 + 3 + 1; reached: 1 + 2; clicked: 1
      assert.deepEqual([r.TotalCount, r.SentCount, r.DeliveredCount, r.ClickCount], [7, 5, 3, 1]);
      assert.deepEqual([r.SendRate, r.ReachRate, r.ClickRate], [0.7143, 0.6, 0.3333]);
      assert.deepEqual(r.PlatformStatistics, [
        { PushPlatform: 0, TotalCount: 5, SentCount: 3, DeliveredCount: 2, ClickCount: 1 },
        { PushPlatform: 2, TotalCount: 2, SentCount: 2, DeliveredCount: 1, ClickCount: 0 },
      ]);
      assert.equal('Results' in r, false, "Tencent's normal answer is flat");

      const all = (await call('all_member_push_statistics', window())).Results;
      assert.deepEqual(all.map((x: any) => [x.TaskID, x.TotalCount, x.SentCount]), [['', 1, 1]], 'only the batch push');
      for (const command of ['all_member_push_statistics', 'all_member_push_loss']) {
        const walled = await call(command, window({ TaskID: [ids.c2c] }));
        assert.equal(walled.ErrorCode, 90049, `${command}: a chat PushID is no all-member task`);
      }
      assert.equal((await call('all_member_push_statistics', window({ TaskID: [ids.batch] }))).Results[0].TotalCount, 1);
      assert.equal((await call('normal_push_statistics', window(), other)).TotalCount, 0, 'apps are walls');
    });

    test('normal_push_loss: by reason, per platform, with the loss rates', async () => {
      const r = await call('normal_push_loss', window());
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      assert.deepEqual(r.ReadyToSendLoss, [{ ErrCode: -2, ErrCount: 1, ErrInfo: LossReason.noToken.reason }]);
      assert.deepEqual(r.PostSendDeliveredLoss, [{ ErrCode: 16, ErrCount: 1, ErrInfo: 'xiaomi receipt: invalid regId' }]);
      assert.deepEqual(r.PlatformReadyToSendLoss, [{ PushPlatform: 0, ErrCode: -2, ErrCount: 1, ErrInfo: LossReason.noToken.reason }]);
      assert.deepEqual(r.PlatformPostSendDeliveredLoss, [{ PushPlatform: 2, ErrCode: 16, ErrCount: 1, ErrInfo: 'xiaomi receipt: invalid regId' }]);
      assert.deepEqual([r.ReadyToSendLossRate, r.PostSendLossRate], [0.1429, 0.2]);
      const mine = await call('all_member_push_loss', window());
      assert.deepEqual([mine.Results[0].ReadyToSendLoss, mine.Results[0].PostSendDeliveredLoss], [[], []], 'no chat loss among all-member ones');
    });

    test('normal_push_trace: every device the group push targeted, the sender not among them', async () => {
      const r = await call('normal_push_trace', { PushID: ids.group });
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      assert.equal(r.PushID, ids.group);
      const byId = new Map<string, any>(r.InstanceTrace.map((t: any) => [t.InstanceId, t]));
      assert.deepEqual([...byId.keys()].sort(), [dev.b1, dev.b2, dev.c1, dev.c2].sort(), 'bob and carol, not alice');
      const c1 = byId.get(dev.c1!);
      assert.deepEqual(c1.Steps.map((s: any) => s.Step), ['accepted', 'targeted', 'vendor_sent', 'vendor_reached']);
      assert.deepEqual([c1.UserID, c1.Outcome, c1.EventType, c1.PushPlatform], ['carol', 'reached', 1, 2]);
      assert.equal(byId.get(dev.c2!).Steps.at(-1).Step, 'vendor_lost');
      assert.equal(byId.get(dev.b2!).Outcome, 'pending', 'named, nothing recorded for it yet');
      const c2c = await call('normal_push_trace', { PushID: ids.c2c });
      assert.deepEqual(c2c.InstanceTrace.map((t: any) => t.InstanceId).sort(), [dev.b1, dev.b2].sort());
    });

    test("not found and bad input: another family's id, another app's push, windows too long, fields Tencent's normal commands do not take", async () => {
      const cases: [string, Record<string, unknown>, number, App?][] = [
        ['normal_push_trace', { PushID: ids.batch }, 90049],
        ['normal_push_trace', { PushID: 'chat_nope' }, 90049],
        ['normal_push_trace', { PushID: ids.c2c }, 90049, other],
        ['normal_push_trace', {}, 90001],
        ['all_member_push_trace', { TaskID: ids.c2c, UserID: 'bob' }, 90049],
        ['normal_push_statistics', window({ TaskID: [ids.c2c] }), 90001],
        ['normal_push_statistics', { StartTime: 0, EndTime: 31 * 86400 }, 90001],
        ['normal_push_loss', { StartTime: 0, EndTime: 8 * 86400 }, 90001],
        ['normal_push_loss', { StartTime: 100, EndTime: 50 }, 90001],
        ['get_push_funnel', { Family: 2 }, 90001],
        ['get_push_funnel', { TaskId: ids.c2c }, 90049],
      ];
      for (const [command, body, code, a] of cases) assert.equal((await call(command, body, a)).ErrorCode, code, `${command} ${JSON.stringify(body)}`);
      assert.equal((await call('normal_push_loss', { StartTime: 0, EndTime: 7 * 86400 })).ErrorCode, 0, 'seven days is allowed');
    });

    test('get_push_funnel takes a Family; get_push_task shows a chat push its own funnel', async () => {
      const normal = await call('get_push_funnel', { Range: '7d', Family: 1 });
      assert.deepEqual([normal.Total.Sendable, normal.Total.Sent, normal.Total.Reached, normal.Total.Clicked], [7, 5, 3, 1]);
      assert.equal((await call('get_push_funnel', { Range: '7d' })).Total.Sendable, 1, 'family 0 by default');
      assert.equal((await call('get_push_funnel', { Range: '7d', Family: 1, TaskId: ids.group })).Total.Sent, 3);
      const task = (await call('get_push_task', { TaskId: ids.c2c })).Task;
      assert.deepEqual(task.Funnel, { Sendable: 3, Sent: 1, Reached: 1, Clicked: 1, SendRate: 0.3333, ReachRate: 1, ClickRate: 1 });
    });

    test('Push.OfflinePush callbacks: the conversation of each chat push and the call, signed, in requests of their own', async () => {
      const offline = () => sink.events().filter((e) => e.CallbackCommand === 'Push.OfflinePush');
      const key = (e: Record<string, any>) => `${e.PushID === ids.c2c ? 'c2c' : e.PushID === ids.group ? 'group' : 'call'} ${e.RegistrationID === dev.b1 ? 'b1' : e.RegistrationID === dev.b2 ? 'b2' : e.RegistrationID === dev.c1 ? 'c1' : 'c2'} ${e.PushStage} ${e.ErrCode}`;
      const want = ['c2c b1 1 0', 'c2c b1 2 0', 'c2c b1 3 0', 'c2c b2 1 -2', 'group b1 1 0', 'group b1 2 0', 'group c1 1 0', 'group c2 1 0', 'group c1 2 0', 'group c2 2 16', 'call b1 1 0'];
      await eventually(async () => offline().length >= want.length && sink.events().some((e) => e.CallbackCommand === 'Push.AllMemberPush'), 8000).catch((err) => {
        throw new Error(`${err.message}: got ${JSON.stringify(sink.events())}`);
      });
      assert.deepEqual(offline().map(key).sort(), [...want].sort(), 'each step told once, none of another family');

      const sent = offline().find((e) => key(e) === 'c2c b1 1 0')!;
      assert.ok(Math.abs(sent.EventTime - now()) < 60, `EventTime in seconds: ${sent.EventTime}`);
      assert.deepEqual(sent, {
        CallbackCommand: 'Push.OfflinePush',
        EventType: 1,
        EventTime: sent.EventTime,
        From_Account: 'alice',
        To_Account: 'bob',
        RegistrationID: dev.b1,
        PushPlatform: 0,
        PushStage: 1,
        MsgKey: 'k-1',
        GroupID: '',
        MsgSeq: 5,
        MsgRandom: 501,
        MsgTime: 1_700_000_001,
        PushID: ids.c2c,
        ErrCode: 0,
        ErrInfo: '',
      });
      // Tencent's order (trtc.io/document/67552), Herald's RegistrationID beside To_Account as in Push.AllMemberPush
      assert.deepEqual(Object.keys(sent), ['CallbackCommand', 'EventType', 'EventTime', 'From_Account', 'To_Account', 'RegistrationID', 'PushPlatform', 'PushStage', 'MsgKey', 'GroupID', 'MsgSeq', 'MsgRandom', 'MsgTime', 'PushID', 'ErrCode', 'ErrInfo']);
      const lost = offline().find((e) => key(e) === 'c2c b2 1 -2')!;
      assert.deepEqual([lost.To_Account, lost.ErrInfo], ['bob', LossReason.noToken.reason]);
      const group = offline().find((e) => key(e) === 'group c2 2 16')!;
      assert.deepEqual([group.EventType, group.GroupID, group.MsgKey, group.MsgSeq, group.MsgRandom, group.MsgTime, group.To_Account, group.PushPlatform], [2, 'g-7', '', 77, 502, 1_700_000_002, 'carol', 2]);
      const ring = offline().find((e) => key(e) === 'call b1 1 0')!;
      assert.deepEqual([ring.EventType, ring.From_Account, ring.MsgKey, ring.GroupID, ring.MsgSeq, ring.MsgRandom, ring.MsgTime], [1, 'ivan', '', '', 0, 503, callTaskTime]);

      const batch = sink.events().filter((e) => e.CallbackCommand === 'Push.AllMemberPush');
      assert.deepEqual(batch.map((e) => [e.TaskId, e.RegistrationID, e.PushStage]), [[ids.batch, dev.b1, 1]]);
      for (const g of sink.got) {
        assert.equal(g.query.get('SdkAppid'), String(app.sdkAppId));
        assert.ok(g.events.every((e) => e.CallbackCommand === g.query.get('CallbackCommand')), 'one command per request');
        assert.ok(CallbackEndpoint.signedWith(g.query, TOKEN), 'signed with the app token');
      }
    });
  });
}
