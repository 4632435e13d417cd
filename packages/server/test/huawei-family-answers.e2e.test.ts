import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { HarmonyEmulator, HonorEmulator, HuaweiEmulator } from '@herald/emulators';
import type { StoredMessage } from '../src/dispatch/message.js';
import { vendorMessage } from '../src/channels/vendor-channels.js';
import type { SendContext, VendorAdapter, VendorResult, VendorTarget } from '../src/channels/vendor.js';
import { harmonyAdapter } from '../src/channels/vendors/harmony.js';
import { huaweiAdapter } from '../src/channels/vendors/huawei.js';
import { honorAdapter } from '../src/channels/vendors/honor.js';

/**
 * What HarmonyOS NEXT, Huawei and Honor answer, and what Herald makes of it, adapter to emulator
 * over real sockets: a category on every HarmonyOS notification, refused tokens read by their
 * documented reason, configuration errors that stop the certificate instead of clearing tokens,
 * Honor's body code deciding success, and each certificate check.
 */

let seq = 0;
const push = (info: Record<string, unknown> = {}) => {
  const now = Date.now();
  const stored: StoredMessage = { from: 'admin', sentAt: now, expiresAt: now + 600_000, info: { PushFlag: 0, Title: 'Hello', Desc: 'world', ...info } };
  return vendorMessage(`task-${++seq}-${now}`, stored);
};
const target = (token: string): VendorTarget => ({ registrationId: `r-${token}`, token, locale: null });
const send = (adapter: VendorAdapter, config: Record<string, unknown>, tokens: string[], ctx: SendContext = {}, info: Record<string, unknown> = {}) =>
  adapter.send(config, push(info), tokens.map(target), ctx);
/** Each device's outcome, and the code when not sent, by token. */
const outcomes = (results: VendorResult[]) => Object.fromEntries(results.map((r) => [r.registrationId.slice(2), r.outcome === 'sent' ? 'sent' : `${r.outcome} ${r.code}`]));

/** Starts `emu` for the enclosing describe. */
function started(emu: { start(): Promise<string>; stop(): Promise<void> }): void {
  before(() => emu.start());
  after(() => emu.stop());
}

describe('HarmonyOS NEXT answers', () => {
  const emu = new HarmonyEmulator();
  started(emu);
  const certificate = () => {
    const a = emu.app();
    return { projectId: a.projectId, clientId: a.clientId, serviceAccount: a.serviceAccount, baseUrl: emu.base };
  };
  /** A category of the push's own, so that a test about answers is about answers only. */
  const IM = { HarmonyInfo: { Category: 'IM' } };
  const note = (token: string) => emu.received.find((r) => r.tokens.includes(token))?.payload.notification as Record<string, unknown> | undefined;

  test('every notification carries a category: MARKETING unless HarmonyInfo.Category or a chat names one; the emulator refuses one without (80100003)', async () => {
    const c = certificate();
    assert.deepEqual(outcomes(await send(harmonyAdapter, c, ['hm-plain'])), { 'hm-plain': 'sent' });
    assert.deepEqual(outcomes(await send(harmonyAdapter, c, ['hm-express'], {}, { HarmonyInfo: { Category: 'EXPRESS' } })), { 'hm-express': 'sent' });
    assert.deepEqual([note('hm-plain')?.category, note('hm-express')?.category], ['MARKETING', 'EXPRESS']);

    // the emulator on its own: a notification without category is refused as HarmonyOS documents
    const sa = c.serviceAccount;
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const iat = Math.floor(Date.now() / 1000);
    const unsigned = `${enc({ kid: sa.key_id, typ: 'JWT', alg: 'PS256' })}.${enc({ aud: sa.token_uri, iss: sa.sub_account, iat, exp: iat + 600 })}`;
    const sig = crypto.sign('sha256', Buffer.from(unsigned), { key: sa.private_key!, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString('base64url');
    const res = await fetch(`${emu.base}/v3/${c.projectId}/messages:send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${unsigned}.${sig}`, 'push-type': '0', 'content-type': 'application/json' },
      body: JSON.stringify({ payload: { notification: { title: 't', body: 'b', clickAction: { actionType: 0 } } }, target: { token: ['hm-nocat'] } }),
    });
    const answer = (await res.json()) as { code: string; msg: string };
    assert.deepEqual([res.status, answer.code], [400, '80100003']);
    assert.match(answer.msg, /category/);
  });

  test("refused tokens are read from msg.illegalTokens by reason: malformed ones are dead, another project's dead once sent alongside, others kept", async () => {
    const c = certificate();
    emu.refuseToken('hm-elsewhere', 'noRight');
    emu.refuseToken('hm-abroad', 'countryNotSupport');
    const results = await send(harmonyAdapter, c, ['hm-ok', 'bad token!', 'hm-elsewhere', 'hm-abroad'], {}, IM);
    assert.deepEqual(outcomes(results), { 'hm-ok': 'sent', 'bad token!': 'dead 80100000', 'hm-elsewhere': 'dead 80100000', 'hm-abroad': 'failed 80100000' });
    assert.match((results[1] as { info: string }).info, /^tokenFormatError/);
    assert.deepEqual(emu.received.at(-1)!.tokens, ['hm-ok'], 'only the taken token was sent');

    // all refused (80300007): another project's tokens clear only on a certificate known to work
    const all = ['hm-elsewhere'];
    assert.deepEqual(outcomes(await send(harmonyAdapter, c, all, {}, IM)), { 'hm-elsewhere': 'certificate 80300007' });
    assert.deepEqual(outcomes(await send(harmonyAdapter, c, all, { certificateProven: true }, IM)), { 'hm-elsewhere': 'dead 80300007' });
  });

  test("configuration errors stop the certificate and clear no token: a penalised app (80300007), a JWT of another project (80200001), a key that cannot sign", async () => {
    const c = certificate();
    emu.penalise(c.projectId);
    const penalised = await send(harmonyAdapter, c, ['hm-p1', 'hm-p2'], { certificateProven: true }, IM);
    assert.deepEqual(outcomes(penalised), { 'hm-p1': 'certificate 80300007', 'hm-p2': 'certificate 80300007' });
    assert.match((penalised[0] as { info: string }).info, /disableSendHuaweiMsgBecauseOfPenalty/);
    emu.pardon(c.projectId);

    const other = certificate();
    const seen = emu.jwtsSeen.length;
    const wrongProject = await send(harmonyAdapter, { ...c, serviceAccount: other.serviceAccount }, ['hm-w1'], {}, IM);
    assert.deepEqual(outcomes(wrongProject), { 'hm-w1': 'certificate 80200001' });
    assert.equal(emu.jwtsSeen.length, seen + 2, 'signed afresh once before the certificate is given up');

    const garbled = { ...c, serviceAccount: { ...c.serviceAccount, key_id: 'other-key', private_key: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n' } };
    assert.deepEqual(outcomes(await send(harmonyAdapter, garbled, ['hm-k1'], {}, IM)), { 'hm-k1': 'certificate 0' });
  });

  test('check: a JWT HarmonyOS takes is ok; a JWT of another project, or a penalised app, is refused with what to fix', async () => {
    const c = certificate();
    const received = emu.received.length;
    assert.deepEqual(await harmonyAdapter.check!(c), { ok: true, info: `HarmonyOS took the service account's JWT for project ${c.projectId}` });
    assert.equal(emu.received.length, received, 'the check reached no device');
    const wrong = await harmonyAdapter.check!({ ...c, serviceAccount: certificate().serviceAccount });
    assert.deepEqual([wrong.ok, !wrong.ok && wrong.code], [false, 80200001]);
    assert.match(wrong.info, /projectId and serviceAccount/);
    emu.penalise(c.projectId);
    const penalised = await harmonyAdapter.check!(c);
    emu.pardon(c.projectId);
    assert.deepEqual([penalised.ok, !penalised.ok && penalised.code], [false, 80300007]);
    assert.match(penalised.info, /penalised/);
  });
});

describe('Huawei answers', () => {
  const emu = new HuaweiEmulator();
  started(emu);
  const certificate = () => ({ ...emu.app(), baseUrl: emu.base, tokenUrl: `${emu.base}/oauth2/v3/token` });

  test('80300007 names no token: the certificate stops while it has never worked, and a proven one keeps the tokens; 80300002 and refused client credentials stop it', async () => {
    const c = certificate();
    emu.failNext(400, '80300007');
    assert.deepEqual(outcomes(await send(huaweiAdapter, c, ['hw-a', 'hw-b'])), { 'hw-a': 'certificate 80300007', 'hw-b': 'certificate 80300007' });
    emu.failNext(400, '80300007');
    assert.deepEqual(outcomes(await send(huaweiAdapter, c, ['hw-a', 'hw-b'], { certificateProven: true })), { 'hw-a': 'failed 80300007', 'hw-b': 'failed 80300007' });

    emu.disablePush(c.clientId);
    assert.deepEqual(outcomes(await send(huaweiAdapter, c, ['hw-a'], { certificateProven: true })), { 'hw-a': 'certificate 80300002' });
    emu.enablePush(c.clientId);

    const refused = await send(huaweiAdapter, { ...certificate(), clientSecret: 'wrong' }, ['hw-a'], { certificateProven: true });
    assert.deepEqual(outcomes(refused), { 'hw-a': 'certificate 400' });
    assert.match((refused[0] as { info: string }).info, /clientId and clientSecret/);
  });

  test('check: an access token issued is ok; a wrong secret is refused with what to fix', async () => {
    const c = certificate();
    const [requests, received] = [emu.tokenRequests.length, emu.received.length];
    assert.deepEqual(await huaweiAdapter.check!(c), { ok: true, info: `Huawei issued an access token for client ${c.clientId}` });
    const bad = await huaweiAdapter.check!({ ...c, clientSecret: 'wrong' });
    assert.deepEqual([bad.ok, !bad.ok && bad.code], [false, 400]);
    assert.match(bad.info, /clientId and clientSecret/);
    assert.equal(emu.tokenRequests.length, requests + 2);
    assert.equal(emu.received.length, received, 'no message sent');
  });
});

describe('Honor answers', () => {
  const emu = new HonorEmulator();
  started(emu);
  const certificate = () => ({ ...emu.app(), baseUrl: emu.base, tokenUrl: `${emu.base}/auth/token` });

  test("Honor's body code decides: a refusal in an HTTP 200 is a loss with its code, tokens kept; expireTokens of a code-200 answer are dead", async () => {
    const c = certificate();
    emu.refuseNext(80300007, 'refused');
    assert.deepEqual(outcomes(await send(honorAdapter, c, ['ho-a', 'ho-b'])), { 'ho-a': 'failed 80300007', 'ho-b': 'failed 80300007' });
    // a body Honor cannot take is refused the same way (HTTP 200, code 400 in this emulator)
    assert.deepEqual(outcomes(await send(honorAdapter, c, ['ho-a'], {}, { Title: '', Desc: '' })), { 'ho-a': 'failed 400' });
    emu.invalidate('ho-gone');
    assert.deepEqual(outcomes(await send(honorAdapter, c, ['ho-a', 'ho-gone'])), { 'ho-a': 'sent', 'ho-gone': 'dead 200' });
  });

  test('refused client credentials, or an access token refused again once fresh, stop the certificate', async () => {
    const c = certificate();
    assert.deepEqual(outcomes(await send(honorAdapter, { ...certificate(), clientSecret: 'wrong' }, ['ho-a'])), { 'ho-a': 'certificate 401' });
    emu.failNext(401);
    emu.failNext(401);
    assert.deepEqual(outcomes(await send(honorAdapter, c, ['ho-a'])), { 'ho-a': 'certificate 401' });
  });

  test('check: an access token issued is ok; a wrong secret is refused with what to fix', async () => {
    const c = certificate();
    const ok = await honorAdapter.check!(c);
    assert.equal(ok.ok, true);
    assert.match(ok.info, new RegExp(`client ${c.clientId}`));
    const bad = await honorAdapter.check!({ ...c, clientSecret: 'wrong' });
    assert.deepEqual([bad.ok, !bad.ok && bad.code], [false, 401]);
    assert.match(bad.info, /clientId and clientSecret/);
  });
});
