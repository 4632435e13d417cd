#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { genUserSig } from '../auth/usersig.js';
import { loadConfig } from '../config.js';
import { startHerald } from '../herald.js';
import fs from 'node:fs';
import { CERT_VENDORS } from '../channels/certificates.js';
import { isCertVendor, saveCertificate, viewOf } from '../channels/certificate-service.js';
import { apps, callbackOutbox, certificates, openStore } from '../store/index.js';
import { callbackStatus, callbackView, readCallbackConfig, saveCallbackConfig, type CallbackPatch } from '../callbacks/index.js';
import { adminTarget, callAdmin, withConnectionOptions, type ConnectionOptions } from './admin-request.js';
import { firstStartBanner } from './banner.js';
import { listenAsDevice } from './device-listen.js';
import { emulate } from './emulate.js';
import { addPushRecordsCommand } from './push-records.js';
import { addTemplateCommands } from './push-templates.js';
import { int } from './options.js';
import { HeraldClient, type Platform, type Vendor } from '@herald/client';

async function withStore<T>(fn: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const program = new Command('herald').description('Herald: self-hosted push notifications').showHelpAfterError();

program
  .command('start')
  .description('run Herald (API, gateway, store) in this process; configured by HERALD_* variables')
  .action(async () => {
    const herald = await startHerald(loadConfig(), { bootstrapDefaultApp: true });
    herald.log.info({ url: herald.url, dialect: herald.store.dialect }, 'herald listening');
    if (herald.createdDefaultApp) process.stdout.write(firstStartBanner(herald.createdDefaultApp, herald.url) + '\n');
    const stop = async (signal: string) => {
      herald.log.info({ signal }, 'shutting down');
      await herald.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });

const app = program.command('app').description('manage apps');
app
  .command('create')
  .requiredOption('--name <name>', 'app name')
  .option('--json', 'print one JSON object')
  .action(async (o: { name: string; json?: boolean }) => {
    const created = await withStore((s) => apps.createApp(s.db, o.name));
    const values = { sdkAppId: created.sdkAppId, adminIdentifier: created.adminIdentifiers[0], secretKey: created.secretKey, appKey: created.appKey };
    if (o.json) process.stdout.write(JSON.stringify(values) + '\n');
    else process.stdout.write(`SDKAppID        ${values.sdkAppId}\nadmin           ${values.adminIdentifier}\nsecret key      ${values.secretKey}\nclient appKey   ${values.appKey}\n`);
  });
app
  .command('list')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const list = await withStore((s) => apps.listApps(s.db));
    if (o.json) {
      process.stdout.write(JSON.stringify(list.map((a) => ({ sdkAppId: a.sdkAppId, name: a.name, appKey: a.appKey, createdAt: a.createdAt }))) + '\n');
      return;
    }
    for (const a of list) process.stdout.write(`${a.sdkAppId}  ${a.name}  appKey=${a.appKey}  created=${new Date(a.createdAt).toISOString()}\n`);
  });

program
  .command('usersig')
  .description('make a TLS-Sig v2 UserSig')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .requiredOption('--identifier <id>', 'account the UserSig is for')
  .requiredOption('--key <key>', "the app's secret key")
  .option('--expire <seconds>', 'validity in seconds', int, 180 * 86400)
  .action((o: { sdkappid: number; identifier: string; key: string; expire: number }) => {
    process.stdout.write(genUserSig(o.sdkappid, o.key, o.identifier, o.expire) + '\n');
  });

const pushCommand = program
  .command('push')
  .description('push through the REST API: to UserIDs or RegistrationIDs (v4/timpush/batch), or to all users or a tag audience (v4/timpush/push)')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .option('--to <accounts...>', 'UserIDs or RegistrationIDs')
  .option('--all', 'every device of the app')
  .option('--tags-and <tags...>', 'devices whose accounts have all these tags')
  .option('--tags-or <tags...>', 'devices whose accounts have any of these tags')
  .option('--title <text>', 'title', '')
  .option('--desc <text>', 'text', '')
  .option('--ext <json>', 'Ext string passed to the app on click')
  .option('--online-only', 'PushFlag 1: only devices connected now')
  .option('--server <url>', 'Herald base URL', process.env.HERALD_URL ?? 'http://127.0.0.1:8080')
  .option('--identifier <id>', 'admin identifier', 'administrator')
  .option('--key <key>', "the app's secret key (default: read from the local store)", process.env.HERALD_SECRET_KEY)
  .action(async (o: { sdkappid: number; to?: string[]; all?: boolean; tagsAnd?: string[]; tagsOr?: string[]; title: string; desc: string; ext?: string; onlineOnly?: boolean; server: string; identifier: string; key?: string }) => {
    const audience = o.tagsAnd || o.tagsOr ? 'tags' : o.all ? 'all' : o.to ? 'to' : undefined;
    if (!audience || (o.to && (o.all || o.tagsAnd || o.tagsOr)) || (o.all && (o.tagsAnd || o.tagsOr))) {
      throw new InvalidArgumentError('give exactly one of --to, --all, or --tags-and/--tags-or');
    }
    const secretKey = o.key ?? (await withStore(async (s) => (await apps.findApp(s.db, o.sdkappid))?.secretKey));
    if (!secretKey) throw new Error(`no secret key: pass --key, or run where the store of app ${o.sdkappid} is`);
    const body: Record<string, unknown> = {
      From_Account: o.identifier,
      MsgRandom: Math.floor(Math.random() * 0xffffffff),
      OfflinePushInfo: { PushFlag: o.onlineOnly ? 1 : 0, Title: o.title, Desc: o.desc, ...(o.ext ? { Ext: o.ext } : {}) },
    };
    if (audience === 'to') body.To_Account = o.to;
    if (audience === 'tags') body.Condition = { ...(o.tagsAnd ? { TagsAnd: o.tagsAnd } : {}), ...(o.tagsOr ? { TagsOr: o.tagsOr } : {}) };
    const reply = await callAdmin({ server: o.server, sdkAppId: o.sdkappid, identifier: o.identifier, secretKey }, audience === 'to' ? 'batch' : 'push', body);
    process.stdout.write(JSON.stringify(reply) + '\n');
    if (reply.ActionStatus !== 'OK') process.exitCode = 1;
  });

addPushRecordsCommand(pushCommand, (sdkAppId) => withStore(async (s) => (await apps.findApp(s.db, sdkAppId))?.secretKey));

addTemplateCommands(program, (sdkAppId) => withStore(async (s) => (await apps.findApp(s.db, sdkAppId))?.secretKey));

const cert = program.command('cert').description("manage an app's vendor certificates (credentials); secrets are shown masked");
cert
  .command('add')
  .description('add a certificate, or replace one with --id; a webpush certificate without keys gets a new VAPID key pair')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .requiredOption('--vendor <vendor>', CERT_VENDORS.join(' | '))
  .requiredOption('--name <name>', 'a name to recognise it by')
  .option('--config <file>', "the vendor's credentials as a JSON file (docs/api.md), - for standard input")
  .option('--subject <url>', 'webpush: the VAPID subject, mailto: or https:')
  .option('--id <n>', 'replace this certificate', int)
  .action(async (o: { sdkappid: number; vendor: string; name: string; config?: string; subject?: string; id?: number }) => {
    if (!isCertVendor(o.vendor)) throw new InvalidArgumentError(`--vendor must be one of ${CERT_VENDORS.join(', ')}`);
    const vendor = o.vendor;
    const text = o.config === undefined ? '{}' : o.config === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(o.config, 'utf8');
    const config = { ...(JSON.parse(text) as Record<string, unknown>), ...(o.subject ? { subject: o.subject } : {}) };
    const r = await withStore((s) => saveCertificate(s.db, o.sdkappid, { certId: o.id, vendor, name: o.name, config }));
    if (!r.ok) throw new Error(r.message);
    process.stdout.write(JSON.stringify(r.view, null, 2) + '\n');
  });
cert
  .command('list')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .action(async (o: { sdkappid: number }) => {
    const rows = await withStore((s) => certificates.listCertificates(s.db, o.sdkappid));
    process.stdout.write(JSON.stringify(rows.map(viewOf), null, 2) + '\n');
  });
cert
  .command('remove')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .requiredOption('--id <n>', 'certificate id', int)
  .action(async (o: { sdkappid: number; id: number }) => {
    if (!(await withStore((s) => certificates.deleteCertificate(s.db, o.sdkappid, o.id)))) throw new Error(`no certificate ${o.id}`);
  });

withConnectionOptions(cert.command('check'))
  .description("try a certificate's credentials against its vendor, notifying no one (through the admin API's check_certificate)")
  .requiredOption('--id <n>', 'certificate id', int)
  .action(async (o: ConnectionOptions & { id: number }) => {
    const target = await adminTarget(o, (sdkAppId) => withStore(async (s) => (await apps.findApp(s.db, sdkAppId))?.secretKey));
    const reply = await callAdmin(target, 'check_certificate', { CertId: o.id });
    if (reply.ActionStatus !== 'OK') {
      process.stdout.write(JSON.stringify(reply) + '\n');
      process.exitCode = 1;
      return;
    }
    const verdict = reply.Ok ? 'ok' : `refused${reply.VendorErrCode ? ` (${String(reply.VendorErrCode)})` : ''}`;
    process.stdout.write(`certificate ${o.id} (${String(reply.Vendor)}): ${verdict}: ${String(reply.Info)}\n`);
    if (!reply.Ok) process.exitCode = 1;
  });

const callback = program.command('callback').description("the app's Push.AllMemberPush and Push.OfflinePush webhook: URL, signing token, pace, and the requests waiting or dead");
const showCallback = (db: Parameters<typeof callbackStatus>[0], appId: number) =>
  Promise.all([readCallbackConfig(db, appId), callbackStatus(db, appId)]).then(([c, s]) => JSON.stringify(callbackView(c, s), null, 2) + '\n');
const saveCallback = (appId: number, patch: CallbackPatch) =>
  withStore(async (s) => {
    const r = await saveCallbackConfig(s.db, appId, patch);
    if (!r.ok) throw new Error(r.message);
    return showCallback(s.db, appId);
  });
callback
  .command('set')
  .description('post the events to this URL (callbacks on); a running Herald sees it within seconds')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .requiredOption('--url <url>', 'http or https URL of the app backend')
  .option('--token <token>', "signs each request (Sign = sha256(token + RequestTime)); '' removes it")
  .option('--max-per-second <n>', "requests a second to this URL; 0 = Herald's default", int)
  .action(async (o: { sdkappid: number; url: string; token?: string; maxPerSecond?: number }) => {
    process.stdout.write(await saveCallback(o.sdkappid, { url: o.url, token: o.token, enabled: true, maxPerSecond: o.maxPerSecond }));
  });
callback
  .command('get')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .action(async (o: { sdkappid: number }) => {
    process.stdout.write(await withStore((s) => showCallback(s.db, o.sdkappid)));
  });
callback
  .command('off')
  .description('stop posting; the URL and the waiting requests are kept for when it is set again')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .action(async (o: { sdkappid: number }) => {
    process.stdout.write(await saveCallback(o.sdkappid, { enabled: false }));
  });
callback
  .command('dead')
  .description('requests given up after the retry bound: put them back in the queue, or delete them')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .addOption(new Option('--retry', 'retry them, with a fresh retry window').conflicts('drop'))
  .option('--drop', 'delete them')
  .action(async (o: { sdkappid: number; retry?: boolean; drop?: boolean }) => {
    if (!o.retry && !o.drop) throw new InvalidArgumentError('give --retry or --drop');
    const n = await withStore((s) => (o.retry ? callbackOutbox.retryDead(s.db, o.sdkappid, Date.now()) : callbackOutbox.dropDead(s.db, o.sdkappid)));
    process.stdout.write(`${n} ${o.retry ? 'back in the queue' : 'deleted'}\n`);
  });

const device = program.command('device').description('act as a device');
device
  .command('listen')
  .description('register, connect and print each push as it arrives')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .requiredOption('--appkey <key>', "the app's client appKey")
  .option('--user <userId>', 'bind this UserID')
  .option('--server <url>', 'Herald base URL', process.env.HERALD_URL ?? 'http://127.0.0.1:8080')
  .option('--state <file>', 'where the device keeps its RegistrationID')
  .option('--locale <tag>', 'device locale (BCP 47)')
  .option('--json', 'print each message as one JSON line')
  .action(async (o: { sdkappid: number; appkey: string; user?: string; server: string; state?: string; locale?: string; json?: boolean }) => {
    await listenAsDevice({ ...o, state: o.state ?? `.herald-device-${o.sdkappid}${o.user ? `-${o.user}` : ''}.json` });
  });

device
  .command('register')
  .description('register a device with a vendor token and leave it offline, so pushes to it go through its vendor')
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .requiredOption('--appkey <key>', "the app's client appKey")
  .addOption(new Option('--vendor <vendor>', 'the channel the token belongs to').choices(['apns', 'apns-voip', 'fcm', 'huawei', 'honor', 'xiaomi', 'oppo', 'vivo', 'meizu', 'harmony', 'webpush']).makeOptionMandatory())
  .requiredOption('--token <token>', "the vendor's device token (webpush: the subscription JSON)")
  .option('--user <userId>', 'bind this UserID')
  .addOption(new Option('--platform <name>', 'device platform').choices(['android', 'ios', 'harmony', 'web']).default('android'))
  .option('--locale <tag>', 'device locale (BCP 47)')
  .option('--server <url>', 'Herald base URL', process.env.HERALD_URL ?? 'http://127.0.0.1:8080')
  .action(async (o: { sdkappid: number; appkey: string; vendor: Vendor; token: string; user?: string; platform: Platform; locale?: string; server: string }) => {
    const client = new HeraldClient({
      server: o.server,
      sdkAppId: o.sdkappid,
      appKey: o.appkey,
      device: { platform: o.platform, vendor: o.vendor, token: o.token, ...(o.locale ? { locale: o.locale } : {}) },
    });
    const { registrationId } = await client.registerPush();
    if (o.user) await client.bindUser(o.user);
    process.stdout.write(`${registrationId}\n`);
  });

program
  .command('emulate')
  .description("run every vendor's emulator on loopback and point the app's certificates at them; prints what each receives")
  .requiredOption('--sdkappid <n>', 'SDKAppID', int)
  .option('--port <n>', 'first port (the emulators take consecutive ones); 0 for any free ports', int, 9100)
  .option('--server <url>', 'Herald base URL', process.env.HERALD_URL ?? 'http://127.0.0.1:8080')
  .option('--identifier <id>', 'admin identifier', 'administrator')
  .option('--key <key>', "the app's secret key (default: read from the local store)", process.env.HERALD_SECRET_KEY)
  .action(async (o: { sdkappid: number; port: number; server: string; identifier: string; key?: string }) => {
    const secretKey = o.key ?? (await withStore(async (s) => (await apps.findApp(s.db, o.sdkappid))?.secretKey));
    if (!secretKey) throw new Error(`no secret key: pass --key, or run where the store of app ${o.sdkappid} is`);
    const running = await emulate({ target: { server: o.server, sdkAppId: o.sdkappid, identifier: o.identifier, secretKey }, host: '127.0.0.1', port: o.port, out: (line) => process.stdout.write(line + '\n') });
    const stop = () => void running.stop().finally(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`herald: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
