import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { ackingDevice, admin, broadcastBody, eventually, makeDevice, sleep, type RawDevice, type DeviceHandle, type TestHerald, startTestHerald } from './helpers/herald.js';

const push = broadcastBody;

for (const db of await testDatabases()) {
  describe(`all-users and tag pushes (${db.name})`, () => {
    let h: TestHerald;
    const call = (app: App, command: string, body: unknown) => admin(h.url, app, command, body);
    const task = async (app: App, taskId: string) => (await call(app, 'get_push_task', { TaskId: taskId })).Task;
    const done = (app: App, taskId: string) => eventually(async () => ['done', 'expired'].includes((await task(app, taskId)).Status), 10_000);
    const device = async (app: App, opts: { user?: string; locale?: string } = {}): Promise<Dev> => ({ ...(await makeDevice(h.url, app, opts)), user: opts.user });
    const online = (app: App, d: DeviceHandle) => ackingDevice(h.url, app, d);
    const got = (c: RawDevice, taskId: string) => c.msgs().filter((m) => m.id === taskId);

    before(async () => {
      h = await startTestHerald(db, {}, { taskPollMs: 100, shardSize: 3, pageSize: 2 });
    });
    after(async () => h.stop());

    test('all users: connected devices get it at once, offline ones when they connect, later registrations never; every shard completes', async () => {
      const app = await h.createApp('all');
      const devs = await Promise.all(Array.from({ length: 8 }, () => device(app)));
      const conns = await Promise.all(devs.slice(0, 5).map((d) => online(app, d)));
      const r = await call(app, 'push', push());
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      assert.match(r.TaskId, /^[0-9a-f]+_[0-9a-f]+_/);
      for (const c of conns) await c.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      await done(app, r.TaskId);
      const t = await task(app, r.TaskId);
      assert.equal(t.AudienceCount, 8);
      assert.equal(t.Shards, 3, 'eight devices in shards of three');
      assert.equal(t.ShardsDone, 3);
      assert.equal(t.InboxCount, 5, 'no inbox row for the three offline devices (fan-out on read)');

      const late = await device(app);
      const back = await Promise.all([...devs.slice(5), late].map((d) => online(app, d)));
      for (const c of back.slice(0, 3)) await c.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      await sleep(200);
      assert.equal(got(back[3]!, r.TaskId).length, 0, 'a device registered after the push is not its audience');
      for (const c of [...conns, ...back]) assert.ok(got(c, r.TaskId).length <= 1);
      assert.equal((await task(app, r.TaskId)).InboxCount, 8);
      // a reconnect does not bring it again once acked
      back[0]!.close();
      await back[0]!.waitClosed();
      const again = await online(app, devs[5]!);
      await sleep(200);
      assert.equal(got(again, r.TaskId).length, 0);
      for (const c of [...conns, ...back, again]) c.close();
    });

    test('online only (PushFlag 1): offline devices never get it and are counted lost with -3', async () => {
      const app = await h.createApp('online-only');
      const devs = await Promise.all(Array.from({ length: 4 }, () => device(app)));
      const c = await online(app, devs[0]!);
      const r = await call(app, 'push', push({}, { PushFlag: 1 }));
      await c.waitFor((f) => f.t === 'msg' && f.id === r.TaskId);
      await done(app, r.TaskId);
      const later = await online(app, devs[1]!);
      await sleep(200);
      assert.equal(got(later, r.TaskId).length, 0);
      const t = await task(app, r.TaskId);
      assert.deepEqual(t.Losses.filter((l: any) => l.ErrCode === -3).map((l: any) => l.Count), [3]);
      c.close();
      later.close();
    });

    test('tag and attribute conditions: And, Or, Not, attributes, nested expressions, DryRun', async () => {
      const app = await h.createApp('tags');
      const users = ['ann', 'ben', 'cat', 'dan', 'eve'];
      const devs = new Map<string, Dev>();
      for (const u of users) devs.set(u, await device(app, { user: u }));
      const tagged = await device(app); // tagged by RegistrationID
      await call(app, 'add_tag', { UserTags: [
        { To_Account: 'ann', Tags: ['gold', 'sz'] },
        { To_Account: 'ben', Tags: ['gold'] },
        { To_Account: 'cat', Tags: ['sz'] },
        { To_Account: 'dan', Tags: ['gold', 'sz', 'churned'] },
      ] });
      await call(app, 'add_tag', { UserTags: [{ To_Account: tagged.registrationId, Tags: ['beta'] }] });
      await call(app, 'set_attr_name', { AttrNames: { '0': 'city', '1': 'plan' }, AttrTypes: { '0': 0, '1': 0 } });
      await call(app, 'set_attr', { UserAttrs: [
        { To_Account: 'ann', Attrs: { city: 'SZ', plan: 'pro' } },
        { To_Account: 'ben', Attrs: { city: 'BJ', plan: 'pro' } },
        { To_Account: 'eve', Attrs: { city: 'SZ', plan: 'free' } },
      ] });
      const byUser = new Map([...devs].map(([u, d]) => [d.registrationId, u]));
      byUser.set(tagged.registrationId, 'tagged');
      const audience = async (condition: unknown) => {
        const dry = await call(app, 'push', push({ Condition: condition, DryRun: 1 }));
        assert.equal(dry.ActionStatus, 'OK', JSON.stringify(dry));
        assert.equal(dry.TaskId, undefined, 'a dry run stores no task');
        return dry.AudienceCount as number;
      };
      assert.equal(await audience({ TagsAnd: ['gold', 'sz'] }), 2); // ann, dan
      assert.equal(await audience({ TagsOr: ['gold', 'sz'] }), 4); // ann, ben, cat, dan
      assert.equal(await audience({ TagsOr: ['gold', 'beta'] }), 4); // UserID and RegistrationID tags together
      assert.equal(await audience({ TagsAnd: ['gold'], TagsNot: ['churned'] }), 2); // ann, ben
      assert.equal(await audience({ TagsNot: ['gold'] }), 3); // six devices but ann, ben, dan: cat, eve and the RegistrationID-tagged one
      assert.equal(await audience({ AttrsAnd: { city: 'SZ', plan: 'pro' } }), 1); // ann
      assert.equal(await audience({ AttrsOr: { city: 'SZ', plan: 'pro' } }), 3); // ann, ben, eve
      assert.equal(await audience({ Expression: { Or: [{ And: [{ Tag: 'sz' }, { Not: { Tag: 'gold' } }] }, { Attr: { plan: 'free' } }] } }), 2); // cat, eve
      assert.equal(await audience({ TagsAnd: ['nobody-has-this'] }), 0);

      // what the devices receive matches the audience
      const conns = new Map<string, RawDevice>();
      for (const [id, u] of byUser) conns.set(u, await online(app, { registrationId: id, credential: [...devs.values(), tagged].find((d) => d.registrationId === id)!.credential }));
      const r = await call(app, 'push', push({ Condition: { Expression: { Or: [{ And: [{ Tag: 'sz' }, { Not: { Tag: 'gold' } }] }, { Attr: { plan: 'free' } }] } } }));
      await done(app, r.TaskId);
      await conns.get('cat')!.waitFor((f) => f.id === r.TaskId);
      await conns.get('eve')!.waitFor((f) => f.id === r.TaskId);
      await sleep(150);
      const receivers = [...conns].filter(([, c]) => got(c, r.TaskId).length > 0).map(([u]) => u).sort();
      assert.deepEqual(receivers, ['cat', 'eve']);
      assert.equal((await task(app, r.TaskId)).AudienceCount, 2);
      for (const c of conns.values()) c.close();
    });

    test('Condition errors answer with Tencent codes', async () => {
      const app = await h.createApp('errors');
      await call(app, 'set_attr_name', { AttrNames: { '0': 'city' }, AttrTypes: { '0': 0 } });
      const code = async (extra: Record<string, unknown>) => (await call(app, 'push', push(extra))).ErrorCode;
      assert.equal(await code({ Condition: { TagsAnd: ['a'], AttrsOr: { city: 'SZ' } } }), 90039);
      assert.equal(await code({ Condition: { TagsOr: Array.from({ length: 11 }, (_, i) => `t${i}`) } }), 90032);
      assert.equal(await code({ Condition: { TagsAnd: ['a', 'a'] } }), 90022);
      assert.equal(await code({ Condition: { TagsAnd: ['a', ''] } }), 90040);
      assert.equal(await code({ Condition: { TagsAnd: ['x'.repeat(51)] } }), 90020);
      assert.equal(await code({ Condition: { AttrsAnd: { town: 'SZ' } } }), 90033);
      assert.equal(await code({ Condition: { TagAnd: ['a'] } }), 90001, 'a misspelt key must not become an all-users push');
      assert.equal(await code({ Condition: {} }), 90040, 'an empty Condition is refused');
      assert.equal(await code({ ExpireTime: 0 }), 90026);
      assert.equal(await code({ MsgRandom: 'x' }), 90005);
      assert.equal(await code({ DataId: 'd'.repeat(65) }), 90057);
      assert.equal(await code({ OfflinePushInfo: { PushFlag: 0, Desc: 'x'.repeat(11 * 1024) } }), 90056);
      assert.equal(await code({ PushSpeed: 0 }), 90001);
      // MsgRandom repeated: the first TaskId comes back and nothing new is stored
      const body = push();
      const first = await call(app, 'push', body);
      const second = await call(app, 'push', body);
      assert.equal(second.TaskId, first.TaskId);
    });

    test('locale: each device gets its best MultiLanguageContent entry, live and when catching up', async () => {
      const app = await h.createApp('locale');
      const tw = await device(app, { locale: 'zh-Hant-TW' });
      const cn = await device(app, { locale: 'zh-Hans-CN' });
      const fr = await device(app, { locale: 'fr-FR' });
      const [ctw, cfr] = [await online(app, tw), await online(app, fr)];
      const r = await call(app, 'push', push({}, { MultiLanguageContent: [
        { Language: 'zh-Hant', Title: '繁體', Desc: '內容' },
        { Language: 'zh', Title: '中文', Desc: '内容' },
      ] }));
      const mtw = await ctw.waitFor((f) => f.id === r.TaskId);
      const mfr = await cfr.waitFor((f) => f.id === r.TaskId);
      assert.deepEqual([mtw.m.title, mtw.m.lang], ['繁體', 'zh-Hant']);
      assert.deepEqual([mfr.m.title, mfr.m.lang], ['hello', undefined]);
      const ccn = await online(app, cn); // catches up
      const mcn = await ccn.waitFor((f) => f.id === r.TaskId);
      assert.deepEqual([mcn.m.title, mcn.m.desc, mcn.m.lang], ['中文', '内容', 'zh']);
      for (const c of [ctw, cfr, ccn]) c.close();
    });

    test('ExpireTime: a device that connects after expiry never gets it; the task closes and counts it lost (-8)', async () => {
      const app = await h.createApp('expiry');
      const [a, b] = [await device(app), await device(app)];
      const ca = await online(app, a);
      const r = await call(app, 'push', push({ ExpireTime: 1 }));
      await ca.waitFor((f) => f.id === r.TaskId);
      await eventually(async () => (await task(app, r.TaskId)).Status === 'expired', 5000);
      const cb = await online(app, b);
      await sleep(200);
      assert.equal(got(cb, r.TaskId).length, 0);
      assert.deepEqual((await task(app, r.TaskId)).Losses.filter((l: any) => l.ErrCode === -8).map((l: any) => l.Count), [1]);
      ca.close();
      cb.close();
    });

    test('PushSpeed paces deliveries: 12 devices at 6 a second take over a second', async () => {
      const app = await h.createApp('speed');
      const devs = await Promise.all(Array.from({ length: 12 }, () => device(app)));
      const conns = await Promise.all(devs.map((d) => online(app, d)));
      const arrived: number[] = [];
      for (const c of conns) c.ws.on('message', (data) => JSON.parse(data.toString()).t === 'msg' && arrived.push(Date.now()));
      const r = await call(app, 'push', push({ PushSpeed: 6 }));
      await eventually(async () => arrived.length === 12, 10_000);
      const spread = Math.max(...arrived) - Math.min(...arrived);
      assert.ok(spread >= 1000, `12 deliveries at 6/s spread over ${spread} ms`);
      await done(app, r.TaskId);
      for (const c of conns) c.close();
    });

    test('apps are walls: a push reaches only its own app and its TaskId is unknown to others', async () => {
      const a = await h.createApp('wall-a');
      const b = await h.createApp('wall-b');
      const cb = await online(b, await device(b));
      const r = await call(a, 'push', push());
      await done(a, r.TaskId);
      await sleep(150);
      assert.equal(got(cb, r.TaskId).length, 0);
      assert.equal((await call(b, 'get_push_task', { TaskId: r.TaskId })).ErrorCode, 90049);
      assert.equal((await call(b, 'revoke', { TaskId: r.TaskId, OfflinePushInfo: { PushFlag: 0 } })).ErrorCode, 90049);
      cb.close();
    });
  });
}
