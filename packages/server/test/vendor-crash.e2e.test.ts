import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { XiaomiEmulator } from '@herald/emulators';
import { apps, openStore, type App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually, pushBody, broadcastBody, registerDevice } from './helpers/herald.js';
import { freePort, kill, startHeraldProcess, waitReady } from './helpers/herald-process.js';

/**
 * The SIGKILL sweep: a push accepted is sent to every offline device through its vendor, whatever
 * moment the process dies at. Herald runs as its own process and is killed before, during and after
 * the vendor calls of a batch push and of a fan-out's pages, then started again; every targeted
 * device must reach the vendor at least once (a repeat is allowed: the vendor collapses it by the
 * push's notify id), and the push must finish.
 */
const BATCH = 50;
const AUDIENCE = 300;

for (const db of await testDatabases()) {
  describe(`vendor sends survive SIGKILL (${db.name})`, () => {
    const emu = new XiaomiEmulator();
    let store: Awaited<ReturnType<typeof db.create>>;
    let app: App;
    let url = '';
    let env: Record<string, string> = {};
    let child: ChildProcess | undefined;
    const tokens: string[] = [];
    const regIds: string[] = [];

    /** The tokens the vendor received for one push, each as often as it was sent. */
    const sentFor = (taskId: string) => emu.received.filter((r) => (JSON.parse(r.fields.payload ?? '{}') as { id?: string }).id === taskId).flatMap((r) => r.regIds);

    async function start(): Promise<void> {
      child = startHeraldProcess(env);
      await waitReady(url);
    }

    /** Kills Herald (unless a test already did), starts it again, and checks that the push reaches every token and finishes; returns how many sends were repeats. */
    async function survives(taskId: string, targets: readonly string[], finished: readonly string[]): Promise<{ repeats: number }> {
      await kill(child!);
      await start();
      const wanted = new Set(targets);
      await eventually(async () => new Set(sentFor(taskId).filter((t) => wanted.has(t))).size === wanted.size, 20_000).catch(() => {
        const got = new Set(sentFor(taskId));
        assert.fail(`${[...wanted].filter((t) => !got.has(t)).length} of ${wanted.size} devices were never sent the push`);
      });
      const status = await eventually(async () => {
        const t = (await admin(url, app, 'get_push_task', { TaskId: taskId })).Task as { Status: string };
        return finished.includes(t.Status) ? t.Status : undefined;
      }, 20_000);
      assert.ok(finished.includes(status));
      return { repeats: sentFor(taskId).length - wanted.size };
    }

    before(async () => {
      store = await db.create();
      const opened = await openStore({ dataDir: store.dataDir, databaseUrl: store.databaseUrl });
      app = await apps.createApp(opened.db, 'crash');
      await opened.close();
      await emu.start();
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      env = {
        HERALD_PORT: String(port),
        HERALD_HOST: '127.0.0.1',
        HERALD_DATA_DIR: store.dataDir,
        ...(store.databaseUrl ? { HERALD_DATABASE_URL: store.databaseUrl } : {}),
        HERALD_TASK_LEASE_SECONDS: '1',
        // 300 devices register from one address, past the default per-address bound
        HERALD_LIMIT_REGISTRATIONS_PER_ADDRESS: '0',
        // two shards of one page each; a page of 150 Xiaomi devices is two requests (100 regIds at most)
        HERALD_FANOUT_SHARD_SIZE: '150',
      };
      await start();
      const cert = await admin(url, app, 'set_certificate', { Vendor: 'xiaomi', Name: 'mi', Config: { ...emu.app('com.example.crash'), baseUrl: emu.base } });
      assert.equal(cert.ActionStatus, 'OK', JSON.stringify(cert));
      for (let i = 0; i < AUDIENCE; i += 25) {
        const part = await Promise.all(
          Array.from({ length: 25 }, (_, j) => {
            const token = `mi-${String(i + j).padStart(4, '0')}`;
            tokens.push(token);
            return registerDevice(url, app, { platform: 'android', vendor: 'xiaomi', token });
          }),
        );
        regIds.push(...part.map((d) => d.registrationId));
      }
    });

    after(async () => {
      if (child) await kill(child);
      await emu.stop();
      await store?.drop();
    });

    test('batch: killed right after `batch` answered, before any vendor call', async () => {
      const release = emu.hold();
      const r = await admin(url, app, 'batch', pushBody(regIds.slice(0, BATCH)));
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      await kill(child!);
      release();
      await survives(r.TaskId, tokens.slice(0, BATCH), ['routed']);
    });

    test('batch: killed while its vendor call is in flight', async () => {
      const release = emu.hold();
      const arrived = emu.arrivals;
      const r = await admin(url, app, 'batch', pushBody(regIds.slice(BATCH, 2 * BATCH)));
      await emu.arrived(arrived + 1);
      await kill(child!);
      release();
      await survives(r.TaskId, tokens.slice(BATCH, 2 * BATCH), ['routed']);
    });

    test('all users: killed right after the push was accepted', async () => {
      const release = emu.hold();
      const r = await admin(url, app, 'push', broadcastBody());
      assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      await kill(child!);
      release();
      await survives(r.TaskId, tokens, ['done']);
    });

    test("all users: killed as a page's vendor call is answered, before the next page's", async () => {
      const answered = emu.answers;
      const r = await admin(url, app, 'push', broadcastBody());
      await emu.answered(answered + 1);
      await survives(r.TaskId, tokens, ['done']);
    });

    test("all users: killed while a page's vendor call is in flight", async () => {
      const arrived = emu.arrivals;
      const answered = emu.answers;
      const r = await admin(url, app, 'push', broadcastBody());
      await emu.answered(answered + 1);
      const release = emu.hold();
      await emu.arrived(arrived + 2);
      await kill(child!);
      release();
      await survives(r.TaskId, tokens, ['done']);
    });
  });
}
