import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { XiaomiEmulator } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually, pushBody, registerDevice, startTestHerald, type TestHerald, lossRows, stopWithEmulator } from './helpers/herald.js';

for (const db of await testDatabases()) {
  describe(`offline push through Xiaomi MiPush (${db.name})`, () => {
    let h: TestHerald;
    let emu: XiaomiEmulator;
    let app: App;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const losses = (taskId: string) => lossRows(h, taskId);

    before(async () => {
      emu = new XiaomiEmulator();
      await emu.start();
      h = await startTestHerald(db);
      app = await h.createApp('mi');
      const cert = await call('set_certificate', { Vendor: 'xiaomi', Name: 'mi', Config: { ...emu.app('com.example.shop'), baseUrl: emu.base } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
    });
    after(() => stopWithEmulator(h, emu));

    test("regIds go in lists per language, with the package, Xiaomi's length limits, TTL, notify_id and channel", async () => {
      const a = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-a', locale: 'zh-CN' });
      const b = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-b', locale: 'zh-TW' });
      const c = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-c', locale: 'de-DE' });
      const r = await call('batch', pushBody([a.registrationId, b.registrationId, c.registrationId], { Title: 'X'.repeat(60), Desc: 'd'.repeat(200), Ext: 'e', MultiLanguageContent: [{ Language: 'zh', Title: '小米', Desc: '推送' }], AndroidInfo: { XiaoMiChannelID: 'ch1' } }, { ExpireTime: 60 }));
      await eventually(async () => emu.received.length === 2);
      const zh = emu.received.find((x) => x.regIds.includes('mi-a'))!;
      const de = emu.received.find((x) => x.regIds.includes('mi-c'))!;
      assert.deepEqual(zh.regIds.sort(), ['mi-a', 'mi-b']);
      assert.deepEqual([zh.fields.title, zh.fields.description, zh.fields['extra.channel_id'], zh.packageName], ['小米', '推送', 'ch1', 'com.example.shop']);
      assert.deepEqual(JSON.parse(zh.fields.payload!), { id: r.TaskId, ext: 'e' });
      assert.equal(de.fields.title, `${'X'.repeat(46)}...`);
      assert.equal(de.fields.description!.length, 127);
      assert.ok(Number(de.fields.time_to_live) > 55_000 && Number(de.fields.time_to_live) <= 60_000);
      assert.equal(de.fields.notify_id, zh.fields.notify_id, 'one notify_id per push');
      assert.equal((await losses(r.TaskId)).length, 0);
    });

    test('busy answers are retried; a quota refusal (200001) is a loss with its code and keeps the token', async () => {
      const d = await registerDevice(h.url, app, { platform: 'android', vendor: 'xiaomi', token: 'mi-q' });
      emu.failNext(10002);
      await call('batch', pushBody([d.registrationId]));
      await eventually(async () => emu.received.some((x) => x.regIds.includes('mi-q')));
      emu.failNext(200001);
      const r = await call('batch', pushBody([d.registrationId]));
      await eventually(async () => (await losses(r.TaskId)).length === 1);
      const [l] = await losses(r.TaskId);
      assert.equal(l!.code, 200001);
      assert.equal((await h.herald.store.db.selectFrom('devices').select('token').where('registration_id', '=', d.registrationId).executeTakeFirstOrThrow()).token, 'mi-q');
    });
  });
}
