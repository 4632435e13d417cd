import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, MemoryStorage, type PushMessage } from '@herald/client';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually, pushBody, startTestHerald, type TestHerald } from './helpers/herald.js';

/** Tencent's SchedAt: UTC `YYYY-MM-DD HH:MM:SS`. */
const at = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** An SDK device, registered and connected, that records what the app sees. */
async function connectedDevice(h: TestHerald, app: App, locale?: string) {
  const seen: PushMessage[] = [];
  const client = new HeraldClient({
    server: h.url,
    sdkAppId: app.sdkAppId,
    appKey: app.appKey,
    storage: new MemoryStorage(),
    device: { platform: 'node', ...(locale ? { locale } : {}) },
    reconnect: { minDelayMs: 50, maxDelayMs: 200 },
  });
  client.on('message', (m) => {
    seen.push(m);
  });
  const { registrationId } = await client.registerPush();
  await client.connect();
  return { client, seen, registrationId };
}

const shipped = {
  Name: 'order shipped',
  Title: 'Order {{orderId}} shipped',
  Desc: 'Hi {{name}}, {{timDesc}}',
  MultiLanguageContent: [{ Language: 'zh', Title: '订单{{orderId}}已发货', Desc: '{{name}}，{{timDesc}}' }],
  Ext: '{"page":"order","id":"{{orderId}}"}',
};

for (const db of await testDatabases()) {
  describe(`push templates (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let other: App;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    before(async () => {
      h = await startTestHerald(db, {}, { taskPollMs: 100 });
      app = await h.createApp('templates');
      other = await h.createApp('neighbour');
    });
    after(async () => h.stop());

    test('a template made through the admin API fills a batch push that an SDK device receives, in its language', async () => {
      const made = await call('set_push_template', shipped);
      assert.equal(made.ActionStatus, 'OK', JSON.stringify(made));
      assert.equal(made.PushTemplateId, `${app.sdkAppId}-1`);
      assert.equal(made.PushTemplate.Title, shipped.Title);
      assert.equal((await call('set_push_template', { ...shipped, Name: 'second' })).PushTemplateId, `${app.sdkAppId}-2`);

      const en = await connectedDevice(h, app);
      const zh = await connectedDevice(h, app, 'zh-CN');
      const r = await call('batch', pushBody([en.registrationId, zh.registrationId], { Title: 'ignored', Desc: 'it arrives tomorrow', PushTemplateId: made.PushTemplateId, PushTemplateParam: { orderId: '1234', name: 'Ann' } }));
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      await eventually(async () => en.seen.length === 1 && zh.seen.length === 1);
      assert.deepEqual([en.seen[0]!.title, en.seen[0]!.desc, en.seen[0]!.ext], ['Order 1234 shipped', 'Hi Ann, it arrives tomorrow', '{"page":"order","id":"1234"}']);
      assert.deepEqual([zh.seen[0]!.title, zh.seen[0]!.desc], ['订单1234已发货', 'Ann，it arrives tomorrow']);
      assert.equal(en.seen[0]!.info.PushTemplateId, undefined, 'the device gets the filled content, not the template fields');

      // the task keeps the filled message and the request as it came
      const task = await h.herald.store.db.selectFrom('tasks').select(['message', 'request']).where('app_id', '=', app.sdkAppId).where('task_id', '=', r.TaskId).executeTakeFirstOrThrow();
      assert.match(task.message, /Order 1234 shipped/);
      assert.equal(JSON.parse(task.request).OfflinePushInfo.PushTemplateId, made.PushTemplateId);
      await Promise.all([en.client.disconnect(), zh.client.disconnect()]);
    });

    test('an unknown template, a missing value, a malformed placeholder: each a clear error, nothing sent', async () => {
      const d = await connectedDevice(h, app);
      const unknown = await call('batch', pushBody([d.registrationId], { PushTemplateId: `${app.sdkAppId}-999` }));
      assert.deepEqual([unknown.ActionStatus, unknown.ErrorCode], ['FAIL', 90092]);
      assert.match(unknown.ErrorInfo, /no push template/);
      const missing = await call('batch', pushBody([d.registrationId], { PushTemplateId: `${app.sdkAppId}-1`, PushTemplateParam: { orderId: '1' } }));
      assert.deepEqual([missing.ErrorCode, /\{\{name\}\}/.test(missing.ErrorInfo)], [90093, true]);
      const toAll = await call('push', { From_Account: 'administrator', MsgRandom: 9191, OfflinePushInfo: { PushTemplateId: 'nonsense' } });
      assert.equal(toAll.ErrorCode, 90092, 'v4/timpush/push checks the template too');
      const bad = await call('set_push_template', { Name: 'x', Title: 'Hi {{ name }}', Desc: 'd' });
      assert.deepEqual([bad.ErrorCode, /Title: malformed placeholder/.test(bad.ErrorInfo)], [90001, true]);
      assert.equal((await call('set_push_template', { Name: 'x', Desc: 'x'.repeat(2049) })).ErrorCode, 90001);
      assert.equal((await call('set_push_template', { Name: 'x', Desc: 'd', Colour: 'red' })).ErrorCode, 90001, 'unknown fields are refused');
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(d.seen.length, 0);

      // a recall's overwriting content is filled too, and a bad template does not use up the recall
      const sent = await call('batch', pushBody([d.registrationId], { Title: 'to recall' }));
      await eventually(async () => d.seen.length === 1);
      const badRecall = await call('revoke', { TaskId: sent.TaskId, OfflinePushInfo: { PushTemplateId: `${app.sdkAppId}-1` } });
      assert.equal(badRecall.ErrorCode, 90093);
      const recall = await call('revoke', { TaskId: sent.TaskId, OfflinePushInfo: { Desc: 'was sent by mistake', PushTemplateId: `${app.sdkAppId}-1`, PushTemplateParam: { orderId: '1', name: 'Ann' } } });
      assert.equal(recall.ActionStatus, 'OK', JSON.stringify(recall));
      await d.client.disconnect();
    });

    test('update, get and delete; a deleted template can no longer be pushed with and its id is not reused', async () => {
      const id = (await call('set_push_template', { Name: 'sale', Title: 'Sale', Desc: '{{pct}}% off' })).PushTemplateId as string;
      const up = await call('set_push_template', { PushTemplateId: id, Name: 'sale', Title: 'Big sale', Desc: '{{pct}}% off today' });
      assert.deepEqual([up.ActionStatus, up.PushTemplate.Desc], ['OK', '{{pct}}% off today']);
      const dry = await call('push', { From_Account: 'administrator', MsgRandom: 4242, DryRun: 1, OfflinePushInfo: { PushTemplateId: id, PushTemplateParam: { pct: '30' } } });
      assert.equal(dry.ActionStatus, 'OK', JSON.stringify(dry));
      const got = await call('get_push_templates', { PushTemplateIds: [id, `${app.sdkAppId}-777`] });
      assert.deepEqual(got.PushTemplates.map((t: any) => [t.PushTemplateId, t.Name, t.Title]), [[id, 'sale', 'Big sale']]);
      assert.deepEqual(got.ErrorList, [{ PushTemplateId: `${app.sdkAppId}-777`, ErrorCode: 90092, ErrorInfo: 'no such push template in this app' }]);
      assert.equal((await call('delete_push_template', { PushTemplateId: id })).ActionStatus, 'OK');
      assert.equal((await call('delete_push_template', { PushTemplateId: id })).ErrorCode, 90092);
      assert.equal((await call('push', { From_Account: 'administrator', MsgRandom: 4243, DryRun: 1, OfflinePushInfo: { PushTemplateId: id, PushTemplateParam: { pct: '30' } } })).ErrorCode, 90092);
      const next = await call('set_push_template', { Name: 'after', Desc: 'd' });
      assert.notEqual(next.PushTemplateId, id);
      assert.ok(!(await call('get_push_templates', {})).PushTemplates.some((t: any) => t.PushTemplateId === id));
    });

    test('a scheduled push is checked against its template when added and filled when it fires', async () => {
      const d = await connectedDevice(h, app);
      const content = (param: Record<string, string>) => ({ From_Account: 'administrator', To_Account: [d.registrationId], OfflinePushInfo: { Desc: 'soon', PushTemplateId: `${app.sdkAppId}-1`, PushTemplateParam: param } });
      assert.equal((await call('add_sched_task', { Type: 'User', SchedAt: at(Date.now() + 3600_000), Content: content({ orderId: '5' }) })).ErrorCode, 90093);
      const s = await call('add_sched_task', { Type: 'User', SchedAt: at(Date.now() + 1000), Content: content({ orderId: '5', name: 'Bo' }) });
      assert.equal(s.ActionStatus, 'OK', JSON.stringify(s));
      const info = (await call('get_sched_task', { TaskID: s.TaskID })).TaskInfo;
      assert.deepEqual([info.Title, info.Desc, info.Content.OfflinePushInfo.PushTemplateId], ['Order 5 shipped', 'Hi Bo, soon', `${app.sdkAppId}-1`]);
      await eventually(async () => d.seen.length === 1, 10_000);
      assert.deepEqual([d.seen[0]!.title, d.seen[0]!.desc], ['Order 5 shipped', 'Hi Bo, soon']);
      await d.client.disconnect();
    });

    test('apps are walls: another app can neither see, change, delete nor push with a template', async () => {
      const id = `${app.sdkAppId}-1`;
      const theirs = (command: string, body: unknown) => admin(h.url, other, command, body);
      assert.deepEqual((await theirs('get_push_templates', {})).PushTemplates, []);
      const got = await theirs('get_push_templates', { PushTemplateIds: [id] });
      assert.deepEqual([got.PushTemplates, got.ErrorList[0].ErrorCode], [[], 90092]);
      assert.equal((await theirs('set_push_template', { ...shipped, PushTemplateId: id, Title: 'hijacked' })).ErrorCode, 90092);
      assert.equal((await theirs('delete_push_template', { PushTemplateId: id })).ErrorCode, 90092);
      const d = await connectedDevice(h, other);
      const push = await theirs('batch', pushBody([d.registrationId], { PushTemplateId: id, PushTemplateParam: { orderId: '1', name: 'x' } }));
      assert.equal(push.ErrorCode, 90092);
      // their own first template is theirs alone, numbered from 1
      assert.equal((await theirs('set_push_template', { Name: 'own', Desc: 'd' })).PushTemplateId, `${other.sdkAppId}-1`);
      assert.equal((await call('get_push_templates', { PushTemplateIds: [id] })).PushTemplates[0].Title, shipped.Title, 'untouched');
      await d.client.disconnect();
    });
  });
}
