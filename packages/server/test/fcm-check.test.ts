import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FcmEmulator } from '@herald/emulators';
import { fcmAdapter } from '../src/channels/vendors/fcm.js';

let emu: FcmEmulator;
const config = (serviceAccount: Record<string, string>) => ({ serviceAccount, baseUrl: emu.base, caCertificate: emu.caCertificate });
const check = (serviceAccount: Record<string, string>) => fcmAdapter.check!(config(serviceAccount));

before(async () => {
  emu = new FcmEmulator();
  await emu.start();
});
after(() => emu.stop());

test('a good service account gets an access token and a validate_only message taken: nothing is sent', async () => {
  const account = emu.serviceAccount('check-project');
  const r = await check(account);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.match(r.info, new RegExp(`access token for ${account.client_email}.*validate_only message for project check-project \\(nothing sent\\)`));
  assert.deepEqual([emu.tokenRequests.length, emu.validated, emu.received.length], [1, 1, 0]);
});

test('a disabled service account, a project_id not the account\'s, or an account Google does not know is refused, saying what to check', async () => {
  const disabled = emu.serviceAccount('check-project');
  emu.disableServiceAccount(disabled.client_email!);
  const d = await check(disabled);
  assert.deepEqual([d.ok, !d.ok && d.code], [false, 400]);
  assert.match(d.info, /Google refused the service account .*invalid_grant/);

  const edited = await check({ ...emu.serviceAccount('check-project'), project_id: 'somebody-else' });
  assert.deepEqual([edited.ok, !edited.ok && edited.code], [false, 403]);
  assert.match(edited.info, /project_id \(somebody-else\)/);

  const unknown = await check({ ...emu.serviceAccount('check-project'), client_email: 'nobody@check-project.iam.gserviceaccount.com' });
  assert.deepEqual([unknown.ok, !unknown.ok && unknown.code], [false, 400]);
  assert.equal(emu.received.length, 0);
});
