import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, deviceCall, registerDevice, startTestHerald, type DeviceHandle, type TestHerald } from './helpers/herald.js';

for (const db of await testDatabases()) {
  describe(`tags and attributes (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let other: App;
    let dev: DeviceHandle;
    const call = (command: string, body: unknown, a = app) => admin(h.url, a, command, body);
    before(async () => {
      h = await startTestHerald(db);
      app = await h.createApp('a');
      other = await h.createApp('b');
      for (const user of ['alice', 'bob']) {
        const d = await registerDevice(h.url, app);
        await deviceCall(h.url, app, 'POST', '/device/v1/bind', { userId: user }, d);
      }
      dev = await registerDevice(h.url, app);
    });
    after(async () => h.stop());

    test('attribute names: set, read back, rename keeps the type, type is immutable, names unique', async () => {
      assert.equal((await call('set_attr_name', { AttrNames: { '0': 'sex', '1': 'city', '2': 'model' }, AttrTypes: { '0': 0, '1': 0, '2': 1 } })).ActionStatus, 'OK');
      const got = await call('get_attr_name', {});
      assert.deepEqual(got.AttrNames, { '0': 'sex', '1': 'city', '2': 'model' });
      assert.deepEqual(got.AttrTypes, { '0': 0, '1': 0, '2': 1 });
      assert.equal((await call('set_attr_name', { AttrNames: { '0': 'gender' }, AttrTypes: { '0': 1 } })).ErrorCode, 90033);
      assert.equal((await call('set_attr_name', { AttrNames: { '3': 'city' } })).ErrorCode, 90033);
      assert.equal((await call('set_attr_name', { AttrNames: { '10': 'x' } })).ErrorCode, 90001);
      assert.equal((await call('set_attr_name', { AttrNames: { '4': 'y'.repeat(51) } })).ErrorCode, 90001);
      assert.deepEqual((await call('get_attr_name', {}, other)).AttrNames, {}, 'apps are walls');
    });

    test('attributes: set and get on UserIDs and RegistrationIDs, with Tencent codes for bad input', async () => {
      const r = await call('set_attr', { UserAttrs: [{ To_Account: 'alice', Attrs: { sex: 'female', city: 'ShenZhen' } }, { To_Account: dev.registrationId, Attrs: { model: 'P60' } }, { To_Account: 'ghost', Attrs: { sex: 'x' } }] });
      assert.equal(r.ActionStatus, 'OK');
      assert.deepEqual(r.ErrorList.map((e: any) => [e.To_Account, e.ErrorCode]), [['ghost', 70107]]);
      const got = await call('get_attr', { To_Account: ['alice', dev.registrationId, 'bob'] });
      assert.deepEqual(got.UserAttrs, [
        { To_Account: 'alice', Attrs: { sex: 'female', city: 'ShenZhen' } },
        { To_Account: dev.registrationId, Attrs: { model: 'P60' } },
        { To_Account: 'bob', Attrs: {} },
      ]);
      const wrongType = await call('set_attr', { UserAttrs: [{ To_Account: 'bob', Attrs: { model: 'x' } }] });
      assert.deepEqual(wrongType.ErrorList.map((e: any) => e.ErrorCode), [90035]);
      assert.equal((await call('set_attr', { UserAttrs: [{ To_Account: 'bob', Attrs: { unknown: 'x' } }] })).ErrorCode, 90033);
      assert.equal((await call('set_attr', { UserAttrs: [{ To_Account: 'bob', Attrs: { sex: 'x'.repeat(51) } }] })).ErrorCode, 90033);
      assert.equal((await call('set_attr', { UserAttrs: Array.from({ length: 101 }, (_, i) => ({ To_Account: `u${i}`, Attrs: {} })) })).ErrorCode, 90018);
      await call('remove_attr', { UserAttrs: [{ To_Account: 'alice', Attrs: ['city'] }] });
      assert.deepEqual((await call('get_attr', { To_Account: ['alice'] })).UserAttrs, [{ To_Account: 'alice', Attrs: { sex: 'female' } }]);
      const cross = await call('get_attr', { To_Account: ['alice'] }, other);
      assert.deepEqual(cross.ErrorList.map((e: any) => e.ErrorCode), [70107], "another app cannot see alice's attributes");
    });

    test('tags: append, replace, read, remove, clear', async () => {
      assert.equal((await call('add_tag', { UserTags: [{ To_Account: 'alice', Tags: ['gold', 'vip'] }, { To_Account: 'bob', Tags: ['gold'] }] })).ActionStatus, 'OK');
      await call('add_tag', { UserTags: [{ To_Account: 'alice', Tags: ['news'] }] });
      let got = await call('get_tag', { To_Account: ['alice', 'bob'] });
      assert.deepEqual(got.UserTags, [{ To_Account: 'alice', Tags: ['gold', 'news', 'vip'] }, { To_Account: 'bob', Tags: ['gold'] }]);
      await call('add_tag', { Replace: 1, UserTags: [{ To_Account: 'alice', Tags: ['silver'] }] });
      await call('remove_tag', { UserTags: [{ To_Account: 'bob', Tags: ['gold'] }] });
      got = await call('get_tag', { To_Account: ['alice', 'bob'] });
      assert.deepEqual(got.UserTags, [{ To_Account: 'alice', Tags: ['silver'] }, { To_Account: 'bob', Tags: [] }]);
      await call('clear_all_tags', { To_Account: ['alice'] });
      assert.deepEqual((await call('get_tag', { To_Account: ['alice'] })).UserTags, [{ To_Account: 'alice', Tags: [] }]);
      assert.deepEqual((await call('get_tag', { To_Account: ['bob'] }, other)).ErrorList.map((e: any) => e.ErrorCode), [70107]);
    });

    test('tag limits and account types answer with Tencent codes', async () => {
      const add = (tags: string[], account = 'bob', replace = 0) => call('add_tag', { Replace: replace, UserTags: [{ To_Account: account, Tags: tags }] });
      assert.equal((await add(['t'.repeat(51)])).ErrorCode, 90020);
      assert.equal((await add([''])).ErrorCode, 90040);
      assert.equal((await add(Array.from({ length: 11 }, (_, i) => `a${i}`))).ErrorCode, 90032);
      assert.equal((await add(Array.from({ length: 101 }, (_, i) => `b${i}`), 'bob', 1)).ErrorCode, 90032);
      assert.equal((await add(Array.from({ length: 100 }, (_, i) => `c${i}`), 'bob', 1)).ActionStatus, 'OK');
      const over = await add(['one-more']);
      assert.deepEqual(over.ErrorList.map((e: any) => e.ErrorCode), [90032], 'an account holds at most 100 tags');
      // 'gold' was first used on UserIDs: a RegistrationID may not carry it
      const mixed = await add(['gold'], dev.registrationId);
      assert.deepEqual(mixed.ErrorList.map((e: any) => e.ErrorCode), [90035]);
      assert.equal((await call('get_tag', { To_Account: Array.from({ length: 101 }, (_, i) => `u${i}`) })).ErrorCode, 90018);
    });

    test('an app holds at most 1,000 distinct tags', async () => {
      const devs = await Promise.all(Array.from({ length: 10 }, () => registerDevice(h.url, app)));
      const body = (from: number) => ({ Replace: 1, UserTags: devs.map((d, i) => ({ To_Account: d.registrationId, Tags: Array.from({ length: 100 }, (_, j) => `r${from + i * 100 + j}`) })) });
      const r = await call('add_tag', body(0));
      assert.equal(r.ErrorCode, 90032, 'about 100 tags already exist, so 1,000 more exceed the limit');
      const firstHalf = { Replace: 1, UserTags: body(0).UserTags.slice(0, 5) };
      assert.equal((await call('add_tag', firstHalf)).ActionStatus, 'OK');
    });
  });
}
