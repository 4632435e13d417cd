import { genUserSig } from '../auth/usersig.js';
import type { App } from '../store/index.js';

/** What a new user needs to push at once: the app's four values and a curl command that works. */
export function firstStartBanner(app: App, url: string): string {
  const admin = app.adminIdentifiers[0] ?? 'administrator';
  const sig = genUserSig(app.sdkAppId, app.secretKey, admin, 180 * 86400);
  // MsgRandom must change per push (a repeat within the window returns the first TaskId), so the
  // example splices in the shell's $RANDOM.
  const body = `{"From_Account":"${admin}","To_Account":["alice"],"MsgRandom":'$RANDOM',"OfflinePushInfo":{"PushFlag":0,"Title":"Hello","Desc":"First push from Herald"}}`;
  return [
    '',
    'Herald created a default app. These values are shown once; keep them:',
    `  SDKAppID        ${app.sdkAppId}`,
    `  admin           ${admin}`,
    `  secret key      ${app.secretKey}`,
    `  client appKey   ${app.appKey}`,
    '',
    'Listen as a device bound to alice (another terminal):',
    `  npx herald device listen --server ${url} --sdkappid ${app.sdkAppId} --appkey ${app.appKey} --user alice`,
    '',
    'Push to alice (UserSig valid 180 days):',
    `  curl -s -X POST '${url}/v4/timpush/batch?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${sig}&random=1&contenttype=json' \\`,
    `    -H 'content-type: application/json' -d '${body}'`,
    '',
  ].join('\n');
}
