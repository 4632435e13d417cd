import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, broadcastBody, RawDevice, registerDevice, startTestHerald, type DeviceHandle, type TestHerald } from './helpers/herald.js';

type Node = Record<string, unknown>;
const not = (n: Node, times: number): Node => (times === 0 ? n : not({ Not: n }, times - 1));
const attrs = (from: number, count: number): Node[] => Array.from({ length: count }, (_, i) => ({ Attr: { city: `nowhere${from + i}` } }));

/**
 * Condition.Expression at its limits (depth 10, 50 nodes): `vip` under eight NOTs (depth 9 below
 * the OR), OR four ANDs of nine attribute values no device has. Its audience: the `vip` devices.
 * `extraDepth` and `extraNodes` take it past a limit.
 */
function atLimits(extraDepth = 0, extraNodes = 0): Node {
  const ands = [0, 1, 2, 3].map((i) => ({ And: attrs(i * 10, i === 0 ? 9 + extraNodes : 9) }));
  return { Or: [not({ Tag: 'vip' }, 8 + extraDepth), ...ands] };
}

for (const db of await testDatabases()) {
  describe(`audience limits at the admin API (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let vip: DeviceHandle;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    before(async () => {
      h = await startTestHerald(db);
      app = await h.createApp('limits');
      vip = await registerDevice(h.url, app);
      const vip2 = await registerDevice(h.url, app);
      await registerDevice(h.url, app);
      const tagged = await call('add_tag', { UserTags: [vip, vip2].map((d) => ({ To_Account: d.registrationId, Tags: ['vip'] })) });
      assert.deepEqual([tagged.ActionStatus, tagged.ErrorList ?? []], ['OK', []]);
      const names = Object.fromEntries(['city', ...Array.from({ length: 9 }, (_, i) => `a${i}`)].map((n, i) => [String(i), n]));
      assert.equal((await call('set_attr_name', { AttrNames: names, AttrTypes: Object.fromEntries(Object.keys(names).map((k) => [k, 0])) })).ActionStatus, 'OK');
    });
    after(async () => h.stop());

    const push = (expression: Node, extra: Record<string, unknown> = {}) => call('push', broadcastBody({ Condition: { Expression: expression, ...extra } }));
    const dryRun = (expression: Node, extra: Record<string, unknown> = {}) => call('push', broadcastBody({ DryRun: 1, Condition: { Expression: expression, ...extra } }));
    const schedule = (expression: Node) => call('add_sched_task', { Type: 'Tag', SchedAt: '2099-01-01 00:00:00', Content: broadcastBody({ Condition: { Expression: expression } }) });

    test('deeply nested NOTs are refused by push, DryRun and add_sched_task (90094; a thousand, deeper than any body may be, 90001), and nothing is stored', async () => {
      const probe = not({ Tag: 't' }, 40);
      for (const r of [await push(probe), await dryRun(probe), await schedule(probe)]) {
        assert.deepEqual([r.ActionStatus, r.ErrorCode, r.ErrorInfo], ['FAIL', 90094, 'Condition.Expression is nested 41 levels deep; at most 10']);
      }
      const thousand = not({ Tag: 't' }, 1000);
      for (const r of [await push(thousand), await dryRun(thousand), await schedule(thousand)]) {
        assert.deepEqual([r.ActionStatus, r.ErrorCode], ['FAIL', 90001]);
        assert.match(r.ErrorInfo, /nested deeper than 64 levels/);
      }
      const stored = await h.herald.store.db.selectFrom('tasks').select('task_id').where('app_id', '=', app.sdkAppId).execute();
      assert.deepEqual(stored, []);
      assert.equal((await call('list_sched_task', {})).Total, 0);
    });

    test('one level or one node over the limits is 90094, and so is too large a whole audience; at the limits the push is counted, scheduled and sent', async () => {
      for (const [e, info] of [
        [atLimits(1), 'Condition.Expression is nested 11 levels deep; at most 10'],
        [atLimits(0, 1), 'Condition.Expression has 51 nodes; at most 50'],
      ] as const) {
        for (const r of [await push(e), await dryRun(e), await schedule(e)]) assert.deepEqual([r.ErrorCode, r.ErrorInfo], [90094, info]);
      }
      // With Tencent's AttrsAnd and AttrsOr beside it (eleven nodes each), the audience has 73 nodes.
      const ten = Object.fromEntries(['city', ...Array.from({ length: 9 }, (_, i) => `a${i}`)].map((n) => [n, 'x']));
      const r = await dryRun(atLimits(), { AttrsAnd: ten, AttrsOr: ten });
      assert.deepEqual([r.ErrorCode, r.ErrorInfo], [90094, 'the audience of Condition has 73 nodes; at most 64']);

      // at the limits: counted by DryRun, scheduled, and sent to its audience
      const e = atLimits();
      const counted = await dryRun(e);
      assert.deepEqual([counted.ErrorCode, counted.AudienceCount], [0, 2]);
      assert.equal((await schedule(e)).ActionStatus, 'OK');
      const device = await RawDevice.connect(h.url, app, vip);
      try {
        const sent = await push(e);
        assert.equal(sent.ActionStatus, 'OK');
        const m = await device.waitFor((f) => f.t === 'msg');
        assert.equal(m.id, sent.TaskId);
      } finally {
        device.close();
      }
    });
  });
}
