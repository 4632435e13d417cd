/**
 * The fuzz's cases: for case `n` of seed `s`, a call to one admin command or device API route, with
 * a body that starts as a valid one and is then mutated. Each case draws from its own generator
 * seeded by (s, n), so one case can be replayed alone.
 */
import { adminCommands } from '../../packages/server/src/api/admin/commands.js';
import { mutate, NOT_A_BODY, toText, type Json } from './mutate.js';
import { Random } from './prng.js';

/** Fixtures the run makes before the cases (fuzzer.ts), so that valid bodies name real things. */
export const FIXTURE = {
  users: ['alice', 'bob'],
  /** RegistrationIDs of the devices the device API cases authenticate as (alice's, bob's, unbound). */
  registrationIds: ['fuzz-dev-1', 'fuzz-dev-2', 'fuzz-dev-3'],
  tags: ['vip', 'new'],
  attr: 'city',
  /** Scheduled tasks 1–3 and certificate 1 exist in the fresh app. */
  schedIds: [1, 2, 3],
  certId: 1,
} as const;

/** Stand-ins in a body's text for ids known only once the fixtures exist: a push's TaskId, a chat push's PushID, a template's id. */
export const PLACEHOLDERS = ['$TASK', '$CHAT', '$TEMPLATE'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export interface AdminCase {
  n: number;
  api: 'admin';
  command: string;
  /** Query overrides: another identifier (signed for it), a bad UserSig, junk parameters. */
  query?: { identifier?: string; usersig?: string; extra?: Record<string, string> };
  body: string;
  /** Sent this many times at once. */
  repeat: number;
  mutations: string[];
}

export interface DeviceCase {
  n: number;
  api: 'device';
  method: string;
  path: string;
  /** `app`: appKey only; `device`: as fixture device `device`; `fresh`: as a device registered for this case alone. */
  auth: 'app' | 'device' | 'fresh';
  device: number;
  /** Header overrides: a wrong appKey, a bad credential, another content type. */
  headers?: Record<string, string>;
  body: string | undefined;
  repeat: number;
  mutations: string[];
}

export type FuzzCase = AdminCase | DeviceCase;

const future = (rng: Random) => Date.now() + rng.between(60, 30 * 86400) * 1000;
const schedAt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const nowS = () => Math.floor(Date.now() / 1000);

function offlinePushInfo(rng: Random): Json {
  const info: Record<string, Json> = { PushFlag: 0, Title: 'hello', Desc: 'world' };
  if (rng.chance(0.3)) info.Ext = '{"page":"home"}';
  if (rng.chance(0.2)) info.ApnsInfo = { Sound: 'default', BadgeMode: 1 };
  if (rng.chance(0.2)) info.AndroidInfo = { Sound: 'ring', XiaoMiChannelID: 'c1' };
  if (rng.chance(0.1)) Object.assign(info, { PushTemplateId: '$TEMPLATE', PushTemplateParam: { orderId: '42', name: 'Ann' } });
  return info;
}

function condition(rng: Random): Json {
  return rng.pick<Json>([
    { TagsOr: ['vip', 'new'] },
    { TagsAnd: ['vip'], TagsNot: ['new'] },
    { AttrsAnd: { city: 'Paris' } },
    { Expression: { And: [{ Tag: 'vip' }, { Not: { Attr: { city: 'Rome' } } }] } },
  ]);
}

const pushBody = (rng: Random): Json => ({
  From_Account: 'administrator',
  MsgRandom: rng.uint32(),
  OfflinePushInfo: offlinePushInfo(rng),
  ...(rng.chance(0.5) ? { Condition: condition(rng) } : {}),
  ...(rng.chance(0.2) ? { ExpireTime: 3600 } : {}),
  ...(rng.chance(0.2) ? { DryRun: 1 } : {}),
});

const account = (rng: Random) => rng.pick(['alice', 'bob', 'fuzz-dev-1', 'fuzz-dev-3', 'nobody']);
const window = (rng: Random): Record<string, Json> => ({ StartTime: nowS() - rng.between(0, 7) * 86400, EndTime: nowS() });

/** A valid body for each admin command Herald knows of; a command without one here gets `{}`. */
const ADMIN_SEEDS: Record<string, (rng: Random) => Json> = {
  push: pushBody,
  batch: (rng) => ({ From_Account: 'administrator', MsgRandom: rng.uint32(), To_Account: [account(rng), account(rng)], OfflinePushInfo: offlinePushInfo(rng) }),
  revoke: (rng) => ({ TaskId: '$TASK', OfflinePushInfo: offlinePushInfo(rng) }),
  add_sched_task: (rng) => ({ Type: 'All', SchedAt: schedAt(future(rng)), Content: { From_Account: 'administrator', OfflinePushInfo: offlinePushInfo(rng) } }),
  modify_sched_task: (rng) => ({ TaskID: rng.pick(FIXTURE.schedIds), Type: 'All', SchedAt: schedAt(future(rng)) }),
  delete_sched_task: (rng) => ({ TaskID: rng.between(1, 40), Type: 'All' }),
  get_sched_task: (rng) => ({ TaskID: rng.pick(FIXTURE.schedIds) }),
  list_sched_task: () => ({ Offset: 0, Want: 20, OrderBy: 'schedAt', Asc: 1, Keyword: 'hello' }),
  all_member_push_trace: (rng) => ({ TaskID: '$TASK', UserID: account(rng) }),
  all_member_push_statistics: (rng) => ({ ...window(rng), TaskID: ['$TASK'] }),
  all_member_push_loss: (rng) => ({ ...window(rng), TaskID: ['$TASK'] }),
  normal_push_statistics: window,
  normal_push_loss: window,
  normal_push_trace: () => ({ PushID: '$CHAT' }),
  chat_push: (rng) => ({ From_Account: 'bob', SenderNick: 'Bob', To_Account: 'alice', MsgKey: `k-${rng.uint32()}`, MsgSeq: rng.between(1, 1000), MsgRandom: rng.uint32(), MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'lunch?' } }] }),
  call_push: (rng) => ({ From_Account: 'bob', CallerNick: 'Bob', To_Account: ['alice'], CallId: `c-${rng.between(1, 20)}`, MediaType: 'video', Timeout: 30 }),
  cancel_call: (rng) => ({ CallId: `c-${rng.between(1, 20)}` }),
  get_push_task: () => ({ TaskId: '$TASK' }),
  get_push_records: (rng) => ({ ...window(rng), Type: ['all', 'batch'], Search: 'hello', Limit: 10 }),
  get_push_funnel: () => ({ Range: '7d', Family: 0 }),
  set_push_settings: () => ({ QuietHours: null, DailyLimit: 0 }),
  get_push_settings: () => ({}),
  // Enabled 0: nothing is posted to the (unreachable) URL
  set_callback: () => ({ Url: 'http://127.0.0.1:9/callback', Token: 'fuzz-secret-token', Enabled: 0, MaxPerSecond: 10 }),
  get_callback: () => ({}),
  // an unreachable base URL: no push of the fuzz leaves the machine
  set_certificate: (rng) => ({ ...(rng.chance(0.3) ? { CertId: FIXTURE.certId } : {}), Vendor: 'xiaomi', Name: 'mi', Config: { appSecret: 'fuzz-secret', packageName: 'com.example.fuzz', baseUrl: 'http://127.0.0.1:9' } }),
  get_certificates: () => ({ CertId: FIXTURE.certId }),
  delete_certificate: (rng) => ({ CertId: rng.between(2, 40) }),
  check_certificate: (rng) => ({ CertId: rng.chance(0.5) ? FIXTURE.certId : rng.between(2, 40) }),
  set_push_template: () => ({ Name: 'order', Title: 'Order {{orderId}}', Desc: 'Hi {{name}}' }),
  get_push_templates: () => ({ PushTemplateIds: ['$TEMPLATE'] }),
  delete_push_template: () => ({ PushTemplateId: '$TEMPLATE' }),
  set_attr_name: () => ({ AttrNames: { '0': 'city', '1': 'level' }, AttrTypes: { '0': 0, '1': 0 } }),
  get_attr_name: () => ({}),
  set_attr: (rng) => ({ UserAttrs: [{ To_Account: account(rng), Attrs: { city: rng.pick(['Paris', 'Rome']) } }] }),
  get_attr: (rng) => ({ To_Account: [account(rng), account(rng)] }),
  remove_attr: (rng) => ({ UserAttrs: [{ To_Account: account(rng), Attrs: ['city'] }] }),
  add_tag: (rng) => ({ Replace: rng.pick([0, 1]), UserTags: [{ To_Account: account(rng), Tags: ['vip', 'new'] }] }),
  get_tag: (rng) => ({ To_Account: [account(rng)] }),
  remove_tag: (rng) => ({ UserTags: [{ To_Account: account(rng), Tags: ['new'] }] }),
  clear_all_tags: () => ({ To_Account: ['nobody'] }),
  set_conversation_mute: (rng) => ({ UserID: 'alice', ConversationType: 'C2C', ConversationID: 'bob', MutedUntil: Math.floor(future(rng) / 1000) }),
  get_conversation_mute: () => ({ UserID: 'alice' }),
  set_badge: (rng) => ({ UserID: 'alice', Badge: rng.between(0, 99) }),
  get_badge: () => ({ UserID: ['alice', 'bob'] }),
};

interface DeviceRoute {
  method: string;
  path: string;
  auth: DeviceCase['auth'];
  seed?: (rng: Random) => Json;
}

const PLATFORMS = ['android', 'ios', 'harmony', 'web', 'node', 'electron', 'react-native', 'other'];

/** Every route of the device API (api/device/routes.ts, conversation-routes.ts). */
export const DEVICE_ROUTES: readonly DeviceRoute[] = [
  {
    method: 'POST',
    path: '/device/v1/register',
    auth: 'app',
    seed: (rng) => ({
      installId: `fuzz-install-${rng.uint32()}`,
      platform: rng.pick(PLATFORMS),
      vendor: 'fcm',
      token: `token-${rng.uint32()}`,
      certificateId: FIXTURE.certId,
      locale: 'en-US',
      timeZone: 'Europe/Paris',
      appVersion: '1.2.3',
      sdkVersion: '0.9.0',
      deviceModel: 'Pixel 8',
      osVersion: '14',
      notificationPermission: 'granted',
    }),
  },
  { method: 'PATCH', path: '/device/v1/device', auth: 'device', seed: (rng) => ({ locale: 'fr-FR', vendor: 'xiaomi', token: `mi-${rng.uint32()}`, certificateId: FIXTURE.certId, notificationPermission: 'denied' }) },
  // binding and unbinding as a device of its own, so the fixture devices keep their users
  { method: 'POST', path: '/device/v1/bind', auth: 'fresh', seed: (rng) => ({ userId: rng.pick(['alice', 'bob', 'carol']) }) },
  { method: 'POST', path: '/device/v1/unbind', auth: 'fresh', seed: () => ({}) },
  { method: 'DELETE', path: '/device/v1/device', auth: 'fresh' },
  { method: 'POST', path: '/device/v1/click', auth: 'device', seed: (rng) => ({ messageId: `m-${rng.uint32()}` }) },
  { method: 'POST', path: '/device/v1/mute', auth: 'device', seed: (rng) => ({ type: 'c2c', id: 'bob', until: future(rng) }) },
  { method: 'POST', path: '/device/v1/unmute', auth: 'device', seed: () => ({ type: 'group', id: 'team' }) },
  { method: 'GET', path: '/device/v1/mutes', auth: 'device' },
  { method: 'GET', path: '/device/v1/dnd', auth: 'device' },
  { method: 'PUT', path: '/device/v1/dnd', auth: 'device', seed: () => ({ start: '22:00', end: '07:30', timeZone: 'Asia/Shanghai' }) },
  { method: 'DELETE', path: '/device/v1/dnd', auth: 'device' },
  { method: 'PUT', path: '/device/v1/badge', auth: 'device', seed: (rng) => ({ count: rng.between(0, 99) }) },
];

/** The admin commands cased, straight from the server's own list. */
export const ADMIN_COMMANDS: readonly string[] = Object.keys(adminCommands);

/** Bodies over the admin API's 1 MB and the device API's 16 KB. */
const padded = (text: string, bytes: number) => `{"pad":"${'x'.repeat(bytes)}",${text.startsWith('{') ? text.slice(1) : '"a":1}'}`;

/** The body text: the seed mutated (most cases), not a JSON object at all, or over the size limit. */
function bodyText(rng: Random, seed: Json): { text: string; mutations: string[] } {
  const roll = rng.int(1000);
  if (roll < 30) return { text: rng.pick(NOT_A_BODY), mutations: ['notAnObject'] };
  if (roll < 34) return { text: padded(toText(seed), rng.pick([1100 * 1024, 5 * 1024 * 1024])), mutations: ['bodyTooLarge'] };
  const count = roll < 200 ? 0 : rng.pick([1, 1, 1, 1, 2, 2, 3]);
  const m = mutate(rng, seed, count);
  return { text: toText(m.body), mutations: m.names };
}

const repeatOf = (rng: Random) => (rng.chance(0.08) ? rng.between(2, 8) : 1);

function adminCase(rng: Random, n: number): AdminCase {
  const roll = rng.int(1000);
  const command = roll < 5 ? rng.pick(['PUSH', 'push%20', 'nosuch', '..%2fpush', 'push%00', '%F0%9F%98%80']) : rng.pick(ADMIN_COMMANDS);
  const seed = ADMIN_SEEDS[command]?.(rng) ?? {};
  const { text, mutations } = bodyText(rng, seed);
  const c: AdminCase = { n, api: 'admin', command, body: text, repeat: repeatOf(rng), mutations };
  if (rng.chance(0.03)) {
    c.query = rng.pick<NonNullable<AdminCase['query']>>([
      { identifier: 'admin\u0000istrator' },
      { identifier: 'administrator\ud800' },
      { identifier: 'bob' },
      { usersig: 'eJx' + 'A'.repeat(rng.pick([10, 1000, 12_000])) },
      { extra: { random: rng.pick(['-1', 'abc', '4294967296', '1e3']) } },
      { extra: { contenttype: 'xml' } },
      { extra: { sdkappid: rng.pick(['0', '99999999999999', 'abc', '1400000001\u0000']) } },
    ]);
    c.mutations.push('query');
  }
  return c;
}

function deviceCase(rng: Random, n: number): DeviceCase {
  const route = rng.pick(DEVICE_ROUTES);
  const seeded = route.seed ? bodyText(rng, route.seed(rng)) : rng.chance(0.8) ? { text: undefined, mutations: [] } : bodyText(rng, {});
  const c: DeviceCase = { n, api: 'device', method: route.method, path: route.path, auth: route.auth, device: rng.int(FIXTURE.registrationIds.length), body: seeded.text, repeat: repeatOf(rng), mutations: seeded.mutations };
  if (rng.chance(0.04)) {
    c.headers = rng.pick<Record<string, string>>([
      { 'x-herald-appkey': 'wrong' },
      { 'x-herald-sdkappid': rng.pick(['0', 'abc', '99999999999999999']) },
      { authorization: rng.pick(['Bearer', 'Bearer x', 'Basic abc', `Bearer ${'x'.repeat(5000)}`]) },
      { 'x-herald-registration-id': rng.pick(['nobody', 'x'.repeat(300)]) },
      { 'content-type': rng.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']) },
    ]);
    c.mutations.push('headers');
  }
  return c;
}

/** Case `n` of seed `seed`: an admin call two times in three, else a device API call. */
export function fuzzCase(seed: number, n: number): FuzzCase {
  const rng = new Random(seed, n);
  return rng.int(3) < 2 ? adminCase(rng, n) : deviceCase(rng, n);
}
