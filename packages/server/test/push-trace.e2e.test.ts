import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, MemoryStorage, type PushMessage } from '@herald/client';
import { VivoEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, eventually, makeDevice, pushBody, registerDevice, startTestHerald, stopWithEmulator, type TestHerald } from './helpers/herald.js';

const VIVO_TOKEN = 'vivo-token-of-carol-0123456789';

for (const db of await testDatabases()) {
  describe(`message link: all_member_push_trace (${db.name})`, () => {
    let h: TestHerald;
    let emu: VivoEmulator;
    let app: App;
    let other: App;
    let sdk: HeraldClient;
    const seen: PushMessage[] = [];
    let alice: string;
    let bob: string;
    let carol: string;
    let batchTask: string;
    const call = (command: string, body: unknown, a = app) => admin(h.url, a, command, body);
    const trace = async (body: Record<string, unknown>, a = app) => {
      const r = await call('all_member_push_trace', body, a);
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      return r.InstanceTrace as any[];
    };
    const stepNames = (t: any) => t.Steps.map((s: any) => s.Step);

    before(async () => {
      emu = new VivoEmulator();
      await emu.start();
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('trace');
      other = await h.createApp('other');
      const cert = await call('set_certificate', { Vendor: 'vivo', Name: 'vivo', Config: { ...emu.app(), baseUrl: emu.base } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      sdk = new HeraldClient({
        server: h.url,
        sdkAppId: app.sdkAppId,
        appKey: app.appKey,
        storage: new MemoryStorage(),
        device: { platform: 'android', deviceModel: 'Pixel 8', osVersion: '14', notificationPermission: 'granted', appVersion: '2.1.0' },
      });
      sdk.on('message', (m) => {
        seen.push(m);
      });
      alice = (await sdk.registerPush()).registrationId;
      await sdk.bindUser('alice');
      await sdk.connect();
      bob = (await makeDevice(h.url, app, { user: 'bob' })).registrationId;
      const c = await registerDevice(h.url, app, { platform: 'android', vendor: 'vivo', token: VIVO_TOKEN, certificateId: cert.CertId, deviceModel: 'V2309A', notificationPermission: 'denied' });
      carol = c.registrationId;
      await admin(h.url, app, 'add_tag', { UserTags: [{ To_Account: carol, Tags: ['vip'] }] });

      const r = await call('batch', pushBody(['alice', 'bob', carol], { Title: 'traced' }));
      batchTask = r.TaskId;
      const m = await eventually(async () => seen.find((x) => x.id === batchTask));
      await eventually(() => h.herald.store.db.selectFrom('inbox').select('acked_at').where('task_id', '=', batchTask).where('registration_id', '=', alice).where('acked_at', 'is not', null).executeTakeFirst());
      await sdk.reportClick(m.id);
      await eventually(() => h.herald.store.db.selectFrom('clicks').selectAll().where('task_id', '=', batchTask).executeTakeFirst());
      await eventually(async () => emu.received.some((x) => x.regIds.includes(VIVO_TOKEN)));
      await emu.deliverReceipts();
      await h.herald.flush();
    });
    after(async () => {
      await sdk.disconnect();
      await stopWithEmulator(h, emu);
    });

    test('an online device: accepted → targeted → routed → sent → reached → clicked, in time order, with its details', async () => {
      const [t, ...rest] = await trace({ TaskID: batchTask, UserID: 'alice' });
      assert.equal(rest.length, 0);
      assert.deepEqual(stepNames(t), ['accepted', 'targeted', 'routed', 'sent', 'reached', 'clicked']);
      const times = t.Steps.map((s: any) => s.Time);
      assert.deepEqual(times, [...times].sort((a: number, b: number) => a - b), 'times ordered');
      assert.ok(times[0] > Date.now() - 60_000 && times[5] <= Date.now());
      for (const s of t.Steps.slice(2)) assert.deepEqual([s.EventType, s.PushPlatform, s.ErrCode], [2, 0, 0], s.Step);
      assert.deepEqual(
        [t.InstanceId, t.RegistrationID, t.UserID, t.DeviceModel, t.System, t.SystemVersion, t.NotificationStatus, t.AppVersion, t.EventType, t.PushPlatform, t.Token, t.TokenBound, t.Outcome],
        [alice, alice, 'alice', 'Pixel 8', 'android', '14', 'granted', '2.1.0', 2, 0, '', false, 'clicked'],
      );
      assert.match(t.SdkVersion, /\d/, 'the SDK reported its version');
      assert.equal(t.PushTime, t.Steps[0].Time);
      // the same answer by RegistrationID, and with Herald's spelling TaskId
      assert.deepEqual(await trace({ TaskId: batchTask, RegistrationID: alice }), [t]);
    });

    test('an offline device with no token: lost with -2 before sending', async () => {
      const [t] = await trace({ TaskID: batchTask, UserID: 'bob' });
      const lost = t.Steps.find((s: any) => s.Step === 'lost');
      assert.deepEqual([lost.ErrCode, lost.Stage, lost.EventType], [-2, 'ready_to_send', 1]);
      assert.equal(t.Outcome, 'lost');
      assert.equal(t.TokenBound, false);
      assert.ok(!stepNames(t).includes('reached'));
    });

    test('an offline device sent through vivo: its token masked, the vendor send and receipt', async () => {
      const r = await call('all_member_push_trace', { TaskID: batchTask, RegistrationID: carol });
      assert.ok(!JSON.stringify(r).includes(VIVO_TOKEN), 'never the full token');
      const [t] = r.InstanceTrace;
      assert.deepEqual([t.Token, t.TokenBound, t.Vendor, t.PushPlatform, t.EventType, t.DeviceModel, t.NotificationStatus], ['vivo…6789', true, 'vivo', 7, 1, 'V2309A', 'denied']);
      assert.ok(t.CertId > 0);
      // PushFlag 0: an inbox row waits for it on the gateway too; the vendor steps are the recorder's trace rows
      assert.deepEqual(stepNames(t), ['accepted', 'targeted', 'routed', 'vendor_sent', 'vendor_reached']);
      for (const s of t.Steps.slice(3)) assert.deepEqual([s.EventType, s.PushPlatform, s.ErrCode], [1, 7, 0], s.Step);
      assert.match(t.Steps[3].ErrInfo, /vivo/);
      assert.equal(t.Outcome, 'reached');
    });

    test("a tag push: a device outside its audience says so, one inside is matched; nothing else of another push leaks in", async () => {
      const r = await call('push', broadcastBody({ Condition: { TagsOr: ['vip'] } }, { PushFlag: 1 }));
      await eventually(async () => (await call('get_push_task', { TaskId: r.TaskId })).Task.Status === 'done');
      const [a] = await trace({ TaskID: r.TaskId, UserID: 'alice' });
      assert.deepEqual(stepNames(a), ['accepted', 'not_in_audience']);
      assert.match(a.Steps[1].ErrInfo, /do not match/);
      assert.equal(a.Outcome, 'not_targeted');
      const [c] = await trace({ TaskID: r.TaskId, RegistrationID: carol });
      assert.deepEqual(stepNames(c).slice(0, 2), ['accepted', 'audience_matched']);
      assert.ok(!stepNames(c).includes('clicked'), 'the batch push click is not this push');
      // a device registered after the push is not its audience either
      const late = await registerDevice(h.url, app);
      await admin(h.url, app, 'add_tag', { UserTags: [{ To_Account: late.registrationId, Tags: ['vip'] }] });
      const [l] = await trace({ TaskID: r.TaskId, RegistrationID: late.registrationId });
      assert.deepEqual([stepNames(l)[1], l.Steps[1].ErrInfo], ['not_in_audience', 'registered after the push']);
    });

    test('an all-users push reaches the online device over the gateway', async () => {
      const r = await call('push', broadcastBody());
      await eventually(async () => seen.some((x) => x.id === r.TaskId));
      const [t] = await eventually(async () => {
        const x = await trace({ TaskID: r.TaskId, UserID: 'alice' });
        return stepNames(x[0]).includes('reached') ? x : undefined;
      });
      assert.deepEqual(stepNames(t), ['accepted', 'audience_matched', 'routed', 'sent', 'reached']);
    });

    test('unknown task 90049, unknown account 70107, bad input 90001; apps are walls', async () => {
      assert.equal((await call('all_member_push_trace', { TaskID: 'nope', UserID: 'alice' })).ErrorCode, 90049);
      assert.equal((await call('all_member_push_trace', { TaskID: batchTask, UserID: 'nobody' })).ErrorCode, 70107);
      assert.equal((await call('all_member_push_trace', { TaskID: batchTask, RegistrationID: 'nothing' })).ErrorCode, 70107);
      assert.equal((await call('all_member_push_trace', { TaskID: batchTask })).ErrorCode, 90001);
      assert.equal((await call('all_member_push_trace', { TaskID: batchTask, UserID: 'alice', RegistrationID: alice })).ErrorCode, 90001);
      assert.equal((await call('all_member_push_trace', { UserID: 'alice' })).ErrorCode, 90001);
      assert.equal((await call('all_member_push_trace', { TaskID: batchTask, UserID: 'alice' }, other)).ErrorCode, 90049, "another app's push");
      const own = await call('batch', pushBody([(await makeDevice(h.url, other, { user: 'zed' })).registrationId]), other);
      assert.equal((await call('all_member_push_trace', { TaskID: own.TaskId, UserID: 'alice' }, other)).ErrorCode, 70107, "another app's user");
      assert.equal((await call('all_member_push_trace', { TaskID: own.TaskId, RegistrationID: alice }, other)).ErrorCode, 70107, "another app's device");
    });
  });
}
