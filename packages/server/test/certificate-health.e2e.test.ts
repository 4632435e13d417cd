import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ApnsEmulator, type ApnsApp } from '@herald/emulators';
import type { App } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';
import { admin, eventually, lossRows, pushBody, registerDevice, sleep, startTestHerald, stopWithEmulator, type DeviceHandle, type TestHerald } from './helpers/herald.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** `herald …` as a user runs it; its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  p.stdout.on('data', (d) => (stdout += d));
  return new Promise((resolve) => p.on('close', (code) => resolve({ code, stdout })));
}

/**
 * A certificate its vendor refuses is stopped, not allowed to wipe tokens: its devices keep their
 * tokens and are counted lost, nothing more is sent through it until it is replaced or a probe
 * finds it taken again, and its state shows in get_certificates, get_push_task and /metrics.
 * Exercised on APNs, whose emulator refuses a revoked key with 403 InvalidProviderToken.
 */
for (const db of await testDatabases()) {
  describe(`certificate health (${db.name})`, () => {
    let h: TestHerald;
    let emu: ApnsEmulator;
    let app: App;
    let apple: ApnsApp;
    let certId: number;
    const call = (command: string, body: unknown) => admin(h.url, app, command, body);
    const config = (a: ApnsApp) => ({ ...a, production: false, baseUrl: emu.base, caCertificate: emu.caCertificate });
    const iphone = (token: string) => registerDevice(h.url, app, { platform: 'ios', vendor: 'apns', token, certificateId: certId });
    const tokenOf = async (d: DeviceHandle) => (await h.herald.store.db.selectFrom('devices').select('token').where('registration_id', '=', d.registrationId).executeTakeFirstOrThrow()).token;
    const received = (taskId: string) => emu.received.filter((r) => r.payload.id === taskId);
    const certificate = async () => (await call('get_certificates', { CertId: certId })).Certificates[0] as Record<string, unknown>;
    const lossesOf = (taskId: string) => eventually(async () => {
      const rows = await lossRows(h, taskId);
      return rows.length > 0 ? rows : undefined;
    });

    before(async () => {
      emu = new ApnsEmulator();
      await emu.start();
      h = await startTestHerald(db, { HERALD_CERTIFICATE_RETRY_MINUTES: '0.02' }, { taskPollMs: 100 });
      app = await h.createApp('health');
      apple = emu.app('com.example.health');
      const cert = await call('set_certificate', { Vendor: 'apns', Name: 'ios', Config: config(apple) });
      certId = cert.CertId;
    });
    after(() => stopWithEmulator(h, emu));

    test('a refused certificate is stopped: tokens kept, devices lost, nothing more sent, its state shown; a probe resumes it once the key works again', async () => {
      const tokens = [ApnsEmulator.deviceToken(), ApnsEmulator.deviceToken(), ApnsEmulator.deviceToken()];
      const phones = await Promise.all(tokens.map(iphone));
      const ok = await call('batch', pushBody(phones.map((p) => p.registrationId)));
      await eventually(async () => received(ok.TaskId).length === 3);
      assert.equal((await certificate()).Proven, true);

      emu.revokeKey(apple.keyId);
      const refused = await call('batch', pushBody(phones.map((p) => p.registrationId)));
      const lost = await lossesOf(refused.TaskId);
      assert.deepEqual(lost.map((l) => [l.code, l.stage]), [[403, 'post_send'], [403, 'post_send'], [403, 'post_send']]);
      assert.match(lost[0]!.reason, /certificate was refused and is stopped; token kept\): InvalidProviderToken/);
      for (const [i, p] of phones.entries()) assert.equal(await tokenOf(p), tokens[i], 'the token stays');
      const state = await certificate();
      assert.deepEqual([state.State, state.StopErrCode], ['stopped', 403]);
      assert.match(String(state.StopReason), /InvalidProviderToken/);
      const task = (await call('get_push_task', { TaskId: refused.TaskId })).Task;
      assert.deepEqual(task.Certificates.map((c: Record<string, unknown>) => [c.CertId, c.State]), [[certId, 'stopped']]);
      const metrics = await (await fetch(`${h.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`herald_certificate_stopped\\{sdkappid="${app.sdkAppId}",cert_id="${certId}",vendor="apns"\\} 1`));
      assert.match(metrics, /herald_certificate_stops_total\{vendor="apns"\} 1/);

      // stopped: the next push makes no request and counts its devices lost before sending (-14)
      const attempts = emu.attempts.length;
      const skipped = await call('batch', pushBody([phones[0]!.registrationId]));
      const [l] = await lossesOf(skipped.TaskId);
      assert.deepEqual([l!.code, l!.stage], [-14, 'ready_to_send']);
      assert.match(l!.reason, /apns certificate \d+ stopped since .*InvalidProviderToken.*replace it to resume/);
      assert.equal(emu.attempts.length, attempts, 'no request to APNs');

      // the key works again: after the retry interval one batch is let through, and the certificate resumes
      emu.restoreKey(apple.keyId);
      await sleep(1300);
      const probe = await call('batch', pushBody([phones[1]!.registrationId]));
      await eventually(async () => received(probe.TaskId).length === 1);
      await eventually(async () => (await certificate()).State === 'active');
      const after = await call('batch', pushBody([phones[2]!.registrationId]));
      await eventually(async () => received(after.TaskId).length === 1);
    });

    test('check_certificate and herald cert check try the credentials, notifying no one; a stopped certificate that passes resumes', async () => {
      const sent = emu.received.length;
      const good = await call('check_certificate', { CertId: certId });
      assert.deepEqual([good.ActionStatus, good.Vendor, good.Ok], ['OK', 'apns', true]);
      emu.revokeKey(apple.keyId);
      const bad = await call('check_certificate', { CertId: certId });
      assert.deepEqual([bad.Ok, bad.VendorErrCode], [false, 403]);
      assert.match(bad.Info, /InvalidProviderToken/);
      const cli = await runCli(['cert', 'check', '--sdkappid', String(app.sdkAppId), '--id', String(certId), '--server', h.url, '--key', app.secretKey]);
      assert.equal(cli.code, 1);
      assert.match(cli.stdout, new RegExp(`^certificate ${certId} \\(apns\\): refused \\(403\\): .*InvalidProviderToken`));
      assert.equal((await call('check_certificate', { CertId: 99 })).ErrorCode, 90091);

      // stopped by a push, then fixed at the vendor: a passing check puts it back in use
      const phone = await iphone(ApnsEmulator.deviceToken());
      await lossesOf((await call('batch', pushBody([phone.registrationId]))).TaskId);
      assert.equal((await certificate()).State, 'stopped');
      emu.restoreKey(apple.keyId);
      const fixed = await runCli(['cert', 'check', '--sdkappid', String(app.sdkAppId), '--id', String(certId), '--server', h.url, '--key', app.secretKey]);
      assert.equal(fixed.code, 0);
      assert.match(fixed.stdout, new RegExp(`^certificate ${certId} \\(apns\\): ok`));
      assert.equal((await certificate()).State, 'active');
      assert.equal(emu.received.length, sent, 'no notification was delivered by the checks');
    });

    test('replacing a stopped certificate resumes it at once', async () => {
      const phone = await iphone(ApnsEmulator.deviceToken());
      emu.revokeKey(apple.keyId);
      const refused = await call('batch', pushBody([phone.registrationId]));
      await lossesOf(refused.TaskId);
      assert.equal((await certificate()).State, 'stopped');
      apple = emu.app('com.example.health');
      const saved = await call('set_certificate', { CertId: certId, Vendor: 'apns', Name: 'ios', Config: config(apple) });
      assert.deepEqual([saved.Certificate.State, saved.Certificate.Proven], ['active', false]);
      const r = await call('batch', pushBody([phone.registrationId]));
      await eventually(async () => received(r.TaskId).length === 1);
    });

    test('BadDeviceToken keeps the token while the certificate has never had a send accepted, and clears it once it has', async () => {
      apple = emu.app('com.example.health');
      const fresh = await call('set_certificate', { CertId: certId, Vendor: 'apns', Name: 'ios', Config: config(apple) });
      assert.equal(fresh.Certificate.Proven, false);
      const tok = ApnsEmulator.deviceToken();
      const phone = await iphone(tok);
      emu.failNext(400, 'BadDeviceToken');
      const unproven = await call('batch', pushBody([phone.registrationId]));
      const [kept] = await lossesOf(unproven.TaskId);
      assert.match(kept!.reason, /BadDeviceToken; the token is kept/);
      assert.equal(await tokenOf(phone), tok);
      assert.equal((await certificate()).State, 'active', 'one device is not the certificate');

      const ok = await call('batch', pushBody([phone.registrationId]));
      await eventually(async () => received(ok.TaskId).length === 1);
      await eventually(async () => (await certificate()).Proven === true);
      emu.failNext(400, 'BadDeviceToken');
      const proven = await call('batch', pushBody([phone.registrationId]));
      const [cleared] = await lossesOf(proven.TaskId);
      assert.match(cleared!.reason, /token cleared/);
      assert.equal(await tokenOf(phone), null);
    });
  });
}
