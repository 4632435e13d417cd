import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { ackingDevice, admin, broadcastBody, eventually, makeDevice, pushBody, sleep, startTestHerald, type RawDevice, type TestHerald } from './helpers/herald.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const at = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** Runs the herald CLI; resolves with its exit code and output. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => p.on('close', (code) => resolve({ code, stdout, stderr })));
}

for (const db of await testDatabases()) {
  describe(`push records (${db.name})`, () => {
    let h: TestHerald;
    let app: App;
    let other: App;
    const conns: RawDevice[] = [];
    const call = (command: string, body: unknown, a = app) => admin(h.url, a, command, body);
    const records = async (body: Record<string, unknown> = {}, a = app) => {
      const r = await call('get_push_records', body, a);
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      return r;
    };
    const ids = async (body: Record<string, unknown> = {}) => (await records({ Limit: 100, ...body })).Records.map((r: any) => r.TaskId || `sched:${r.SchedTask.TaskID}`);
    // pushes made by the first test, newest last
    const made: Record<string, string> = {};

    before(async () => {
      h = await startTestHerald(db, {}, { taskPollMs: 100, shardSize: 5 });
      app = await h.createApp('records');
      other = await h.createApp('other');
    });
    after(async () => {
      for (const c of conns) c.close();
      await h.stop();
    });

    test('every kind of push is listed newest first with its request, normalised status and progress', async () => {
      const alice = await makeDevice(h.url, app, { user: 'alice' });
      const bob = await makeDevice(h.url, app, { user: 'bob' });
      assert.equal((await call('add_tag', { UserTags: [{ To_Account: 'alice', Tags: ['vip'] }] })).ActionStatus, 'OK');
      conns.push(await ackingDevice(h.url, app, alice), await ackingDevice(h.url, app, bob));

      const later = await call('add_sched_task', { Type: 'All', SchedAt: at(Date.now() + 3600_000), Content: { From_Account: 'administrator', OfflinePushInfo: { PushFlag: 0, Title: 'Later news', Desc: 'tomorrow' } } });
      made.later = `sched:${later.TaskID}`;
      await sleep(5);
      const sale = await call('push', broadcastBody({}, { Title: 'Spring sale 100%_off', Desc: 'everything' }));
      made.sale = sale.TaskId;
      await sleep(5);
      const vip = await call('push', broadcastBody({ Condition: { TagsOr: ['vip'] } }, { Title: 'VIP only', Desc: 'for you' }));
      made.vip = vip.TaskId;
      await sleep(5);
      const hello = await call('batch', pushBody(['alice'], { Title: 'Hello alice', Desc: 'say "hi" back', Ext: 'needle' }));
      made.hello = hello.TaskId;
      await sleep(5);
      const gone = await call('batch', pushBody([bob.registrationId], { Title: 'Short lived' }, { ExpireTime: 1 }));
      made.gone = gone.TaskId;
      await sleep(5);
      const fired = await call('add_sched_task', { Type: 'User', SchedAt: at(Date.now() - 1000), Content: { From_Account: 'administrator', To_Account: ['bob'], OfflinePushInfo: { PushFlag: 0, Title: 'From a schedule', Desc: 'x' } } });
      const firedTask = await eventually(async () => {
        const t = (await call('get_sched_task', { TaskID: fired.TaskID })).TaskInfo;
        return t.Status === 'dispatched' ? t.PushTaskID : undefined;
      });
      made.fired = firedTask;
      await h.herald.store.db
        .insertInto('sched_tasks')
        .values({ app_id: app.sdkAppId, sched_id: 500, type: 'Tag', sched_at: Date.now() - 1000, content: '{}', title: 'Broken', description: '', status: 'failed', dispatch_success: 0, dispatch_err: 'unknown tag', push_task_id: '', lease_until: null, created_at: Date.now() + 10 })
        .execute();
      made.failed = 'sched:500';

      const all = await eventually(async () => {
        const r = await records({ Limit: 100 });
        const byId = new Map(r.Records.map((x: any) => [x.TaskId || `sched:${x.SchedTask.TaskID}`, x]));
        const done = (id: string, status: string) => (byId.get(id) as any)?.Status === status;
        return done(made.sale!, 'done') && done(made.vip!, 'done') && done(made.hello!, 'done') && done(made.gone!, 'expired') ? r : undefined;
      });
      const order = ['failed', 'fired', 'gone', 'hello', 'vip', 'sale', 'later'].map((k) => made[k]);
      assert.deepEqual(all.Records.map((x: any) => x.TaskId || `sched:${x.SchedTask.TaskID}`), order, 'newest first');
      const byId = new Map<string, any>(all.Records.map((x: any) => [x.TaskId || `sched:${x.SchedTask.TaskID}`, x]));

      const s = byId.get(made.sale!);
      assert.deepEqual([s.Type, s.Status, s.HeraldStatus, s.Title, s.Desc, s.PushFlag], ['all', 'done', 'done', 'Spring sale 100%_off', 'everything', 0]);
      assert.deepEqual(s.Progress, { AudienceCount: 2, InboxCount: 2, DroppedCount: 0, Shards: 1, ShardsDone: 1, Processed: 2 });
      assert.equal(s.Request.OfflinePushInfo.Title, 'Spring sale 100%_off', 'the request as accepted');
      assert.equal(byId.get(made.vip!).Type, 'tag');
      assert.equal(byId.get(made.vip!).Progress.AudienceCount, 1);
      const h1 = byId.get(made.hello!);
      assert.deepEqual([h1.Type, h1.Status, h1.HeraldStatus, h1.Progress.AudienceCount], ['batch', 'done', 'routed', 1]);
      assert.deepEqual(h1.Request.To_Account, ['alice']);
      assert.deepEqual([byId.get(made.gone!).Status, byId.get(made.gone!).HeraldStatus], ['expired', 'routed'], 'a batch past its expiry reads as expired');
      const l = byId.get(made.later!);
      assert.deepEqual([l.TaskId, l.Type, l.Status, l.HeraldStatus, l.Title, l.SchedTask.TaskID, l.Progress], ['', 'all', 'pending', 'pending', 'Later news', later.TaskID, undefined]);
      assert.equal(l.Request.OfflinePushInfo.Desc, 'tomorrow');
      const f = byId.get(made.fired!);
      assert.deepEqual([f.Type, f.SchedTask.TaskID, f.Title], ['batch', fired.TaskID, 'From a schedule'], 'a fired schedule is listed as its push');
      assert.deepEqual([byId.get('sched:500').Status, byId.get('sched:500').SchedTask.DispatchErr], ['failed', 'unknown tag']);

      // a recall shows as recalled
      assert.equal((await call('revoke', { TaskId: made.vip, OfflinePushInfo: { PushFlag: 0, Title: 'x' } })).ActionStatus, 'OK');
      const [v] = (await records({ TaskId: made.vip })).Records;
      assert.deepEqual([v.Status, v.HeraldStatus], ['recalled', 'revoked']);
    });

    test('filters: type, time, TaskId and title/text search (wildcards and quotes taken literally, only title and text)', async () => {
      assert.deepEqual(await ids({ Type: 'tag' }), [made.failed, made.vip], 'tag pushes and Tag schedules');
      assert.deepEqual(await ids({ Type: 'batch' }), [made.fired, made.gone, made.hello]);
      assert.deepEqual(await ids({ Type: ['tag', 'all'] }), [made.failed, made.vip, made.sale, made.later]);
      assert.deepEqual(await ids({ Type: 'scheduled' }), [made.failed, made.fired, made.later], 'pushes that came from a schedule, and schedules');
      assert.deepEqual(await ids({ Type: ['scheduled', 'all'] }), [made.later]);

      assert.deepEqual(await ids({ Search: '100%_' }), [made.sale]);
      assert.deepEqual(await ids({ Search: '%' }), [made.sale], '% is a character, not a wildcard');
      assert.deepEqual(await ids({ Search: 'vip ONLY' }), [made.vip], 'case-insensitive');
      assert.deepEqual(await ids({ Search: 'say "hi"' }), [made.hello], 'quotes, as stored in JSON');
      assert.deepEqual(await ids({ Search: 'needle' }), [], 'Ext is not the title or text');
      assert.deepEqual(await ids({ Search: 'Title' }), [], 'nor are the JSON keys');
      assert.deepEqual(await ids({ Search: 'later' }), [made.later]);

      assert.deepEqual(await ids({ TaskId: made.hello }), [made.hello]);
      assert.deepEqual(await ids({ TaskId: made.later!.slice(6) }), [made.later], 'a scheduled TaskID');
      assert.deepEqual(await ids({ TaskId: 'nope' }), []);

      const sale = (await records({ TaskId: made.sale })).Records[0];
      assert.deepEqual(await ids({ StartTime: sale.CreateTime + 3600 }), []);
      // made a second earlier, a record may fall before the sale; the sale itself never does
      const before = (await records({ EndTime: sale.CreateTime - 1 })).Records as { TaskId: string; CreateTime: number }[];
      assert.ok(before.every((r) => r.CreateTime <= sale.CreateTime - 1 && r.TaskId !== made.sale), JSON.stringify(before));
      assert.ok((await ids({ StartTime: sale.CreateTime, EndTime: sale.CreateTime })).includes(made.sale));
    });

    test('pages follow the cursor without gaps or repeats, searched pages included; bad input gets 90001', async () => {
      const full = await ids();
      for (const body of [{}, { Search: 'e' }]) {
        const want = body.Search ? await ids(body) : full;
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const r = await records({ Limit: 2, ...body, ...(cursor ? { Cursor: cursor } : {}) });
          assert.ok(r.Records.length <= 2);
          seen.push(...r.Records.map((x: any) => x.TaskId || `sched:${x.SchedTask.TaskID}`));
          cursor = r.NextCursor;
          if (!cursor) break;
        }
        assert.equal(cursor, '', 'the last page says there is no more');
        assert.deepEqual(seen, want);
      }

      // pushes that match the search only outside their title and text, between a schedule and newer matches
      const a = await h.createApp('paging');
      const d = await makeDevice(h.url, a);
      const push = async (info: Record<string, unknown>) => (await call('batch', pushBody([d.registrationId], info), a)).TaskId as string;
      const t0 = await push({ Title: 'news item' });
      await sleep(5);
      const s = await call('add_sched_task', { Type: 'All', SchedAt: at(Date.now() + 3600_000), Content: { From_Account: 'administrator', OfflinePushInfo: { PushFlag: 0, Title: 'news later', Desc: '' } } }, a);
      for (let i = 0; i < 3; i++) {
        await sleep(5);
        await push({ Title: 'other', Ext: 'news' });
      }
      await sleep(5);
      const t4 = await push({ Title: 'more news' });
      const pages: string[][] = [];
      let cursor: string | undefined;
      while (pages.length < 10) {
        const r = await records({ Limit: 1, Search: 'news', ...(cursor ? { Cursor: cursor } : {}) }, a);
        pages.push(r.Records.map((x: any) => x.TaskId || `sched:${x.SchedTask.TaskID}`));
        cursor = r.NextCursor;
        if (!cursor) break;
      }
      assert.deepEqual(pages.flat(), [t4, `sched:${s.TaskID}`, t0], `in order, once each: ${JSON.stringify(pages)}`);
      assert.ok(pages.some((p) => p.length === 0), 'a page that read only non-matches comes back empty, with a cursor');

      assert.equal((await call('get_push_records', { Cursor: 'bm90IGEgY3Vyc29y' })).ErrorCode, 90001);
      assert.equal((await call('get_push_records', { Limit: 101 })).ErrorCode, 90001);
      assert.equal((await call('get_push_records', { Type: 'letters' })).ErrorCode, 90001);
      assert.equal((await call('get_push_records', { StartTime: 10, EndTime: 5 })).ErrorCode, 90001);
    });

    test('apps are walls', async () => {
      assert.deepEqual((await records({}, other)).Records, []);
      assert.deepEqual((await records({ TaskId: made.sale }, other)).Records, []);
      assert.deepEqual((await records({ TaskId: made.later!.slice(6) }, other)).Records, []);
    });

    test('a push being sent shows its live progress, shard by shard', async () => {
      const a = await h.createApp('paced');
      await Promise.all(Array.from({ length: 20 }, () => makeDevice(h.url, a)));
      const r = await call('push', broadcastBody({ PushSpeed: 10 }, { PushFlag: 1, Title: 'paced' }), a);
      const mid = await eventually(async () => {
        const [x] = (await records({ TaskId: r.TaskId }, a)).Records;
        return x.Progress.Processed > 0 && x.Progress.Processed < 20 ? x : undefined;
      });
      assert.equal(mid.Status, 'sending');
      assert.deepEqual([mid.Progress.AudienceCount, mid.Progress.Shards], [20, 4]);
      assert.ok(mid.Progress.ShardsDone < 4);
      const end = await eventually(async () => {
        const [x] = (await records({ TaskId: r.TaskId }, a)).Records;
        return x.Status === 'done' ? x : undefined;
      }, 10_000);
      assert.deepEqual([end.Progress.Processed, end.Progress.ShardsDone], [20, 4]);
    });

    // the CLI speaks HTTP: once is enough
    test('herald push records prints them, filtered', { skip: db.name !== 'sqlite' }, async () => {
      const base = ['push', 'records', '--server', h.url, '--sdkappid', String(app.sdkAppId), '--key', app.secretKey];
      const tag = await cli([...base, '--type', 'tag', '--since', '1h', '--search', 'VIP']);
      assert.equal(tag.code, 0, tag.stderr);
      const lines = tag.stdout.trim().split('\n');
      assert.equal(lines.length, 1, tag.stdout);
      assert.match(lines[0]!, new RegExp(`tag\\s+recalled\\s+${made.vip}.*"VIP only"`));
      const json = await cli([...base, '--search', 'hello', '--json']);
      assert.deepEqual(JSON.parse(json.stdout).Records.map((x: any) => x.TaskId), [made.hello]);
      const paged = await cli([...base, '--limit', '1']);
      assert.match(paged.stdout, /^more: --cursor \S+$/m);
      assert.notEqual((await cli([...base, '--since', 'yesterday'])).code, 0);
    });
  });
}
