import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, MemoryStorage, type PushMessage } from '@herald/client';
import type { App } from '../src/store/index.js';
import { CallbackEndpoint } from './helpers/callback-endpoint.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually, makeDevice, startTestHerald, type TestHerald } from './helpers/herald.js';

const TOKEN = 'chat-stats-token-7';
const now = () => Math.floor(Date.now() / 1000);
const window = () => ({ StartTime: now() - 3600, EndTime: now() + 60 });
const text = (t: string) => [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }];

for (const db of await testDatabases()) {
  describe(`chat pushes in the normal push statistics, message link and Push.OfflinePush (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let sink: CallbackEndpoint;
    const clients: HeraldClient[] = [];
    const seen: PushMessage[] = [];
    let bobOnline = '';
    let bobOffline = '';
    let carolOffline = '';
    let alice = '';
    let c2c = '';
    let group = '';
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);

    async function sdk(user: string, onMessage?: (m: PushMessage) => void): Promise<string> {
      const client = new HeraldClient({ server: h.url, sdkAppId: app.sdkAppId, appKey: app.appKey, storage: new MemoryStorage(), device: { platform: 'node' } });
      clients.push(client);
      if (onMessage) client.on('message', onMessage);
      const { registrationId } = await client.registerPush();
      await client.bindUser(user);
      await client.connect();
      return registrationId;
    }

    before(async () => {
      sink = await new CallbackEndpoint().start();
      h = await startTestHerald(db, {}, { callbacks: { pollMs: 50 } });
      app = await h.createApp('chat-stats');
      const set = await call('set_callback', { Url: sink.url, Token: TOKEN });
      assert.equal(set.ActionStatus, 'OK', JSON.stringify(set));

      bobOnline = await sdk('bob', (m) => void seen.push(m));
      alice = await sdk('alice');
      // neither connected nor holding a vendor token: each is lost on the vendor channel with -2
      bobOffline = (await makeDevice(h.url, app, { user: 'bob' })).registrationId;
      carolOffline = (await makeDevice(h.url, app, { user: 'carol' })).registrationId;

      const one = await call('chat_push', { From_Account: 'alice', SenderNick: 'Alice', To_Account: 'bob', MsgKey: 'k-1', MsgSeq: 9, MsgRandom: 3101, MsgTime: 1_700_000_009, MsgBody: text('hi bob') });
      assert.equal(one.ErrorCode, 0, one.ErrorInfo);
      c2c = one.PushID;
      const many = await call('chat_push', { From_Account: 'alice', To_Account: ['bob', 'carol', 'alice'], GroupId: 'g-1', GroupName: 'Climbers', MsgSeq: 41, MsgRandom: 3102, MsgTime: 1_700_000_041, MsgBody: text('hi all') });
      assert.equal(many.ErrorCode, 0, many.ErrorInfo);
      group = many.PushID;

      const m = await eventually(async () => seen.find((x) => x.id === c2c));
      await eventually(async () => seen.some((x) => x.id === group));
      await clients[0]!.reportClick(m.id);
      const acked = () => h.herald.store.db.selectFrom('inbox').select('task_id').where('registration_id', '=', bobOnline).where('acked_at', 'is not', null).execute();
      await eventually(async () => (await acked()).length === 2);
      await eventually(() => h.herald.store.db.selectFrom('clicks').selectAll().where('task_id', '=', c2c).executeTakeFirst());
      await h.herald.flush();
    });
    after(async () => {
      for (const c of clients) await c.disconnect();
      await h.stop();
      await sink.stop();
    });

    test('normal_push_statistics and normal_push_loss count both messages; the all-member statistics none of them', async () => {
      // c2c: bob's two devices on the gateway, the offline one on the vendor channel; group: bob's two and carol's one, the two offline ones again
      const s = await eventually(async () => {
        const r = await call('normal_push_statistics', window());
        return r.TotalCount === 8 && r.SentCount === 2 && r.DeliveredCount === 2 && r.ClickCount === 1 ? r : undefined;
      }).catch(async (err) => {
        throw new Error(`${err.message}: ${JSON.stringify(await call('normal_push_statistics', window()))}`);
      });
      assert.deepEqual([s.SendRate, s.ReachRate, s.ClickRate], [0.25, 1, 0.5]);
      assert.deepEqual(s.PlatformStatistics, [{ PushPlatform: 0, TotalCount: 8, SentCount: 2, DeliveredCount: 2, ClickCount: 1 }]);

      const l = await call('normal_push_loss', window());
      assert.deepEqual(l.ReadyToSendLoss.map((x: any) => [x.ErrCode, x.ErrCount]), [[-2, 3]]);
      assert.match(l.ReadyToSendLoss[0].ErrInfo, /token/);
      assert.deepEqual(l.PostSendDeliveredLoss, []);
      assert.deepEqual(l.PlatformReadyToSendLoss.map((x: any) => [x.PushPlatform, x.ErrCode, x.ErrCount]), [[0, -2, 3]]);
      assert.deepEqual([l.ReadyToSendLossRate, l.PostSendLossRate], [0.375, 0]);

      const all = (await call('all_member_push_statistics', window())).Results[0];
      assert.deepEqual([all.TotalCount, all.SentCount], [0, 0]);
      assert.equal((await call('all_member_push_statistics', { ...window(), TaskID: [c2c] })).ErrorCode, 90049);
    });

    test('normal_push_trace: the online device clicked, the offline ones lost for want of a token, the sender not targeted', async () => {
      const one = await call('normal_push_trace', { PushID: c2c });
      assert.equal(one.ActionStatus, 'OK', JSON.stringify(one));
      const byId = new Map<string, any>(one.InstanceTrace.map((t: any) => [t.InstanceId, t]));
      assert.deepEqual([...byId.keys()].sort(), [bobOnline, bobOffline].sort());
      const on = byId.get(bobOnline);
      assert.deepEqual(on.Steps.map((x: any) => x.Step), ['accepted', 'targeted', 'routed', 'sent', 'reached', 'clicked']);
      assert.deepEqual([on.UserID, on.Outcome, on.EventType], ['bob', 'clicked', 2]);
      const off = byId.get(bobOffline);
      const lost = off.Steps.find((x: any) => x.Step === 'lost');
      assert.deepEqual([lost.ErrCode, lost.Stage, lost.EventType, off.Outcome], [-2, 'ready_to_send', 1, 'lost']);

      const many = await call('normal_push_trace', { PushID: group });
      assert.deepEqual(many.InstanceTrace.map((t: any) => t.InstanceId).sort(), [bobOnline, bobOffline, carolOffline].sort());
      assert.ok(!many.InstanceTrace.some((t: any) => t.InstanceId === alice), 'the sender is not notified of her own message');
      assert.equal((await call('all_member_push_trace', { TaskID: group, UserID: 'bob' })).ErrorCode, 90049);
    });

    test('Push.OfflinePush: every step of both messages, with their conversation, signed', async () => {
      const events = () => sink.events();
      const who = (id: string) => (id === bobOnline ? 'bob-on' : id === bobOffline ? 'bob-off' : id === carolOffline ? 'carol-off' : id);
      const key = (e: Record<string, any>) => `${e.PushID === c2c ? 'c2c' : 'group'} ${e.EventType} ${who(e.RegistrationID)} ${e.PushStage} ${e.ErrCode}`;
      const want = ['c2c 1 bob-on 1 0', 'c2c 1 bob-on 2 0', 'c2c 1 bob-on 3 0', 'c2c 1 bob-off 1 -2', 'group 2 bob-on 1 0', 'group 2 bob-on 2 0', 'group 2 bob-off 1 -2', 'group 2 carol-off 1 -2'];
      await eventually(async () => events().length >= want.length, 8000).catch((err) => {
        throw new Error(`${err.message}: got ${JSON.stringify(events().map(key))}`);
      });
      assert.deepEqual(events().map(key).sort(), [...want].sort());
      for (const e of events()) {
        assert.equal(e.CallbackCommand, 'Push.OfflinePush');
        assert.equal(e.From_Account, 'alice');
        assert.equal(e.To_Account, e.RegistrationID === carolOffline ? 'carol' : 'bob');
        if (e.PushID === c2c) assert.deepEqual([e.MsgKey, e.GroupID, e.MsgSeq, e.MsgRandom, e.MsgTime], ['k-1', '', 9, 3101, 1_700_000_009]);
        else assert.deepEqual([e.MsgKey, e.GroupID, e.MsgSeq, e.MsgRandom, e.MsgTime], ['', 'g-1', 41, 3102, 1_700_000_041]);
      }
      for (const g of sink.got) {
        assert.deepEqual([g.query.get('SdkAppid'), g.query.get('CallbackCommand')], [String(app.sdkAppId), 'Push.OfflinePush']);
        assert.ok(CallbackEndpoint.signedWith(g.query, TOKEN), 'signed with the app token');
      }
    });

    test('a call cancelled before it is answered: its message link, counters and Push.OfflinePush events, apart from the chat messages', async () => {
      const client = new HeraldClient({ server: h.url, sdkAppId: app.sdkAppId, appKey: app.appKey, storage: new MemoryStorage(), device: { platform: 'node' } });
      clients.push(client);
      const rung: string[] = [];
      const stopped: string[] = [];
      client.on('call', (c) => void rung.push(c.id));
      client.on('callCancelled', (c) => void stopped.push(c.id));
      const { registrationId: heidi } = await client.registerPush();
      await client.bindUser('heidi');
      await client.connect();
      const before = sink.events().length;
      const r = await call('call_push', { From_Account: 'ivan', To_Account: 'heidi', CallId: 'call-stats-1', MediaType: 'audio', Timeout: 20 });
      await eventually(async () => rung.includes(r.PushID));
      await eventually(() => h.herald.store.db.selectFrom('inbox').select('task_id').where('task_id', '=', r.PushID).where('acked_at', 'is not', null).executeTakeFirst());
      await call('cancel_call', { CallId: 'call-stats-1' });
      await eventually(async () => stopped.includes(r.PushID));
      await h.herald.flush();

      const trace = await call('normal_push_trace', { PushID: r.PushID });
      assert.deepEqual(trace.InstanceTrace.map((t: any) => t.InstanceId), [heidi]);
      assert.deepEqual(trace.InstanceTrace[0].Steps.map((x: any) => x.Step).slice(0, 5), ['accepted', 'targeted', 'routed', 'sent', 'reached']);
      const task = await call('get_push_task', { TaskId: r.PushID });
      assert.deepEqual([task.Task.Type, task.Task.Funnel.Sendable, task.Task.Funnel.Sent, task.Task.Funnel.Reached], ['call', 1, 1, 1]);
      const stats = await call('normal_push_statistics', window());
      assert.deepEqual([stats.TotalCount, stats.SentCount, stats.DeliveredCount], [9, 3, 3], 'the call counts with the chat messages');

      await eventually(async () => sink.events().length >= before + 2);
      const ofCall = sink.events().filter((e) => e.PushID === r.PushID);
      assert.deepEqual(ofCall.map((e) => [e.CallbackCommand, e.EventType, e.From_Account, e.To_Account, e.PushStage]).sort(), [
        ['Push.OfflinePush', 1, 'ivan', 'heidi', 1],
        ['Push.OfflinePush', 1, 'ivan', 'heidi', 2],
      ]);
    });
  });
}
