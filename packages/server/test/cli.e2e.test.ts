import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { verifyUserSig } from '../src/auth/usersig.js';
import { testDatabases } from './helpers/dialects.js';
import { startTestHerald } from './helpers/herald.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function herald(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, HERALD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function run(args: string[], env: Record<string, string>): Promise<Run> {
  const p = herald(args, env);
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (d) => (stdout += d));
  p.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
  return { code, stdout, stderr };
}

/** Resolves with the output so far once `pattern` appears in stdout. */
function waitForOutput(p: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    const t = setTimeout(() => reject(new Error(`no ${pattern} in output: ${out} (stderr: ${err.slice(-2000)})`)), timeoutMs);
    p.stdout!.on('data', (d) => {
      out += d;
      if (pattern.test(out)) {
        clearTimeout(t);
        resolve(out);
      }
    });
  });
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  p.kill('SIGTERM');
  await new Promise((r) => p.on('close', r));
}

describe('herald CLI', () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-cli-'));
    env = { HERALD_DATA_DIR: dir };
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('app create --json prints the four values, app list shows the app', async () => {
    const r = await run(['app', 'create', '--name', 'shop', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(v).sort(), ['adminIdentifier', 'appKey', 'sdkAppId', 'secretKey']);
    assert.equal(v.adminIdentifier, 'administrator');
    assert.equal(typeof v.sdkAppId, 'number');
    const list = await run(['app', 'list'], env);
    assert.match(list.stdout, new RegExp(`${v.sdkAppId}\\s+shop`));
  });

  test('cert add makes a Web Push certificate with a VAPID key pair; cert list shows it masked; cert remove', async () => {
    const app = JSON.parse((await run(['app', 'create', '--name', 'web', '--json'], env)).stdout);
    const added = await run(['cert', 'add', '--sdkappid', String(app.sdkAppId), '--vendor', 'webpush', '--name', 'site', '--subject', 'mailto:ops@example.com'], env);
    assert.equal(added.code, 0, added.stderr);
    const view = JSON.parse(added.stdout);
    assert.equal(view.certId, 1);
    assert.equal(Buffer.from(view.config.publicKey, 'base64url').length, 65);
    assert.match(view.config.privateKey, /^\*{4}/);
    const list = await run(['cert', 'list', '--sdkappid', String(app.sdkAppId)], env);
    assert.deepEqual(JSON.parse(list.stdout).map((c: any) => [c.certId, c.vendor, c.config.publicKey]), [[1, 'webpush', view.config.publicKey]]);
    const bad = await run(['cert', 'add', '--sdkappid', String(app.sdkAppId), '--vendor', 'oppo', '--name', 'o'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Config\.appKey/);
    assert.equal((await run(['cert', 'remove', '--sdkappid', String(app.sdkAppId), '--id', '1'], env)).code, 0);
    assert.deepEqual(JSON.parse((await run(['cert', 'list', '--sdkappid', String(app.sdkAppId)], env)).stdout), []);
  });

  test('usersig prints a UserSig that verifies', async () => {
    const r = await run(['usersig', '--sdkappid', '1400000001', '--identifier', 'administrator', '--key', 'k3y', '--expire', '600'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(verifyUserSig(r.stdout.trim(), 1400000001, 'administrator', 'k3y'), null);
  });

  test('callback set, get, off and dead work on the store; a bad URL is refused', async () => {
    const app = JSON.parse((await run(['app', 'create', '--name', 'hooks', '--json'], env)).stdout);
    const id = String(app.sdkAppId);
    const bad = await run(['callback', 'set', '--sdkappid', id, '--url', 'ftp://example.com/hook'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /url: must be an http or https URL/i);
    const set = await run(['callback', 'set', '--sdkappid', id, '--url', 'https://backend.example.com/hook', '--token', 'abcdefghijklmnop', '--max-per-second', '5'], env);
    assert.equal(set.code, 0, set.stderr);
    const shown = { Url: 'https://backend.example.com/hook', Token: '****mnop', Enabled: 1, MaxPerSecond: 5, Pending: 0, PendingEvents: 0, Dead: 0, DeadEvents: 0, LastError: '' };
    assert.deepEqual(JSON.parse(set.stdout), shown);
    assert.deepEqual(JSON.parse((await run(['callback', 'get', '--sdkappid', id], env)).stdout), shown);
    const off = await run(['callback', 'off', '--sdkappid', id], env);
    assert.deepEqual(JSON.parse(off.stdout), { ...shown, Enabled: 0 }, 'off keeps the URL and token');
    assert.notEqual((await run(['callback', 'dead', '--sdkappid', id], env)).code, 0, 'dead needs --retry or --drop');
    assert.equal((await run(['callback', 'dead', '--sdkappid', id, '--drop'], env)).stdout, '0 deleted\n');
  });

  test('template set, list and delete go through the admin API of a running Herald; its errors come back as a failed run', async () => {
    const h = await startTestHerald((await testDatabases())[0]!);
    try {
      const app = await h.createApp('templates');
      const conn = ['--server', h.url, '--sdkappid', String(app.sdkAppId), '--key', app.secretKey];
      const langs = path.join(dir, 'langs.json');
      fs.writeFileSync(langs, JSON.stringify([{ Language: 'zh', Title: '订单{{id}}' }]));
      const set = await run(['template', 'set', ...conn, '--name', 'shipped', '--title', 'Order {{id}}', '--desc', 'on its way', '--languages', langs], env);
      assert.equal(set.code, 0, set.stdout + set.stderr);
      const id = set.stdout.trim();
      assert.equal(id, `${app.sdkAppId}-1`);
      const update = await run(['template', 'set', ...conn, '--id', id, '--name', 'shipped', '--title', 'Parcel {{id}}', '--desc', 'on its way', '--json'], env);
      assert.equal(JSON.parse(update.stdout).PushTemplate.Title, 'Parcel {{id}}');
      assert.equal((await run(['template', 'list', ...conn], env)).stdout, `${id}  "shipped"  "Parcel {{id}}"  "on its way"\n`);
      const bad = await run(['template', 'set', ...conn, '--name', 'x', '--desc', 'Hi {{name'], env);
      assert.equal(bad.code, 1);
      assert.equal(JSON.parse(bad.stdout).ErrorCode, 90001);
      assert.equal((await run(['template', 'delete', ...conn, '--id', id], env)).stdout, `deleted ${id}\n`);
      const gone = await run(['template', 'list', ...conn, '--id', id, '--json'], env);
      assert.equal(JSON.parse(gone.stdout).ErrorList[0].ErrorCode, 90092);
      assert.equal((await run(['template', 'delete', ...conn, '--id', id], env)).code, 1);
    } finally {
      await h.stop();
    }
  });

  test('start prints the default app once; device listen shows a push sent with herald push', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-start-'));
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const startEnv = { HERALD_DATA_DIR: data, HERALD_PORT: port, HERALD_HOST: '127.0.0.1' };
    const server = herald(['start'], startEnv);
    try {
      const banner = await waitForOutput(server, /curl -s -X POST[\s\S]*-d '/);
      const sdkAppId = banner.match(/SDKAppID\s+(\d+)/)![1]!;
      const secret = banner.match(/secret key\s+([0-9a-f]+)/)![1]!;
      const appKey = banner.match(/client appKey\s+([0-9a-f]+)/)![1]!;
      assert.match(banner, /admin\s+administrator/);

      const listener = herald(['device', 'listen', '--server', `http://127.0.0.1:${port}`, '--sdkappid', sdkAppId, '--appkey', appKey, '--user', 'alice', '--state', path.join(data, 'dev.json'), '--json'], startEnv);
      try {
        await new Promise<void>((resolve, reject) => {
          let err = '';
          const t = setTimeout(() => reject(new Error(`listener not ready: ${err}`)), 15_000);
          listener.stderr!.on('data', (d) => {
            err += d;
            if (/listening as RegistrationID/.test(err)) {
              clearTimeout(t);
              resolve();
            }
          });
        });
        const received = waitForOutput(listener, /"title":"Hello from the CLI"/);
        const push = await run(['push', '--server', `http://127.0.0.1:${port}`, '--sdkappid', sdkAppId, '--key', secret, '--to', 'alice', '--title', 'Hello from the CLI', '--desc', 'two terminals'], startEnv);
        assert.equal(push.code, 0, push.stdout + push.stderr);
        assert.equal(JSON.parse(push.stdout).ActionStatus, 'OK');
        const line = (await received).trim().split('\n').at(-1)!;
        assert.equal(JSON.parse(line).desc, 'two terminals');

        // and to every device of the app
        const toAll = waitForOutput(listener, /"title":"Hello, everyone"/);
        const all = await run(['push', '--server', `http://127.0.0.1:${port}`, '--sdkappid', sdkAppId, '--key', secret, '--all', '--title', 'Hello, everyone'], startEnv);
        assert.equal(all.code, 0, all.stdout + all.stderr);
        assert.match(JSON.parse(all.stdout).TaskId, /^[0-9a-f]+_/);
        await toAll;
        const both = await run(['push', '--server', `http://127.0.0.1:${port}`, '--sdkappid', sdkAppId, '--key', secret, '--all', '--to', 'alice'], startEnv);
        assert.notEqual(both.code, 0, 'one audience at a time');

        // the banner's curl example is a working request
        const curl = banner.match(/curl -s -X POST '([^']+)'/)![1]!;
        const body = banner.match(/-d '(.+)'\n/)![1]!.replace(`'$RANDOM'`, '4242');
        const r = await (await fetch(curl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json();
        assert.equal(r.ActionStatus, 'OK', JSON.stringify(r));
      } finally {
        await stop(listener);
      }
      await stop(server);
      const again = herald(['start'], { ...startEnv, HERALD_LOG_LEVEL: 'info' });
      try {
        let out = '';
        again.stdout!.on('data', (d) => (out += d));
        await waitForOutput(again, /"msg":"herald listening"/);
        assert.doesNotMatch(out, /secret key/, 'the default app is printed only on the first start');
      } finally {
        await stop(again);
      }
    } finally {
      await stop(server);
      fs.rmSync(data, { recursive: true, force: true });
    }
  });

  test('emulate points every vendor certificate at an emulator; an offline device registered with device register gets a push there', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-emulate-'));
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const startEnv = { HERALD_DATA_DIR: data, HERALD_PORT: port, HERALD_HOST: '127.0.0.1' };
    const server = herald(['start'], startEnv);
    let emulators: ChildProcess | undefined;
    try {
      const banner = await waitForOutput(server, /curl -s -X POST[\s\S]*-d '/);
      const sdkAppId = banner.match(/SDKAppID\s+(\d+)/)![1]!;
      const appKey = banner.match(/client appKey\s+([0-9a-f]+)/)![1]!;
      const url = `http://127.0.0.1:${port}`;
      // the secret key is read from the local store, as in the quick start
      emulators = herald(['emulate', '--server', url, '--sdkappid', sdkAppId, '--port', '0'], startEnv);
      const table = await waitForOutput(emulators, /waiting for pushes/);
      for (const v of ['apns', 'fcm', 'huawei', 'honor', 'harmony', 'xiaomi', 'oppo', 'vivo', 'meizu', 'webpush']) assert.match(table, new RegExp(`^${v}\\s+https?://127\\.0\\.0\\.1:\\d+\\s+certificate \\d+`, 'm'));

      const token = table.match(/e\.g\. ([0-9a-f]{64})/)![1]!;
      const reg = await run(['device', 'register', '--server', url, '--sdkappid', sdkAppId, '--appkey', appKey, '--vendor', 'apns', '--platform', 'ios', '--token', token, '--user', 'bob'], startEnv);
      assert.equal(reg.code, 0, reg.stderr);
      assert.match(reg.stdout.trim(), /^\S+$/, 'prints the RegistrationID');
      const arrived = waitForOutput(emulators, /apns received .*Offline hello/);
      const push = await run(['push', '--server', url, '--sdkappid', sdkAppId, '--to', 'bob', '--title', 'Offline hello', '--desc', 'through APNs'], startEnv);
      assert.equal(JSON.parse(push.stdout).ActionStatus, 'OK', push.stdout + push.stderr);
      const line = (await arrived).split('\n').find((l) => /apns received/.test(l))!;
      assert.match(line, new RegExp(token));

      // a second run replaces the certificates rather than adding more (a device uses its vendor's only one)
      await stop(emulators);
      emulators = herald(['emulate', '--server', url, '--sdkappid', sdkAppId, '--port', '0'], startEnv);
      const again = await waitForOutput(emulators, /waiting for pushes/);
      assert.equal(again.match(/^apns\s+\S+\s+certificate (\d+)/m)![1], table.match(/^apns\s+\S+\s+certificate (\d+)/m)![1]);
    } finally {
      if (emulators) await stop(emulators);
      await stop(server);
      fs.rmSync(data, { recursive: true, force: true });
    }
  });
});
