import { HeraldClient, type PushMessage } from '@herald/client';

export interface ListenOptions {
  sdkappid: number;
  appkey: string;
  user?: string;
  server: string;
  state: string;
  locale?: string;
  json?: boolean;
}

/** A terminal device: registers, connects and prints each push, so a push can be watched landing. */
export async function listenAsDevice(o: ListenOptions): Promise<void> {
  const client = new HeraldClient({
    server: o.server,
    sdkAppId: o.sdkappid,
    appKey: o.appkey,
    storagePath: o.state,
    device: { platform: 'node', ...(o.locale ? { locale: o.locale } : {}) },
  });
  const out = (line: string) => process.stdout.write(line + '\n');
  client.on('message', (m: PushMessage) => {
    if (o.json) out(JSON.stringify(m));
    else {
      const conv = m.conversation ? `  [${m.conversation.type} ${m.conversation.id}${m.badge !== undefined ? `, unread ${m.badge}` : ''}]` : '';
      out(`[${new Date().toISOString()}] ${m.title}${m.desc ? ` — ${m.desc}` : ''}${m.ext ? `  ext=${m.ext}` : ''}${conv}  (id ${m.id})`);
    }
  });
  client.on('call', (c) => {
    out(o.json ? JSON.stringify({ call: c }) : `[call] ${c.callerNick ?? c.caller}: ${c.media} call ${c.callId}${c.roomId ? ` in room ${c.roomId}` : ''}, rings ${c.timeoutSeconds} s  (id ${c.id})`);
  });
  client.on('callCancelled', (c) => {
    out(o.json ? JSON.stringify({ callCancelled: c }) : `[call cancelled] ${c.callId}`);
  });
  client.on('revoke', (id: string) => {
    out(o.json ? JSON.stringify({ revoked: id }) : `[revoked] ${id}`);
  });
  client.on('disconnected', (e) => {
    process.stderr.write(`disconnected (${e.code}${e.reason ? ` ${e.reason}` : ''})${e.willReconnect ? ', reconnecting' : ''}\n`);
  });
  client.on('error', (err: Error) => {
    process.stderr.write(`error: ${err.message}\n`);
  });
  const { registrationId } = await client.registerPush();
  if (o.user) await client.bindUser(o.user);
  await client.connect();
  process.stderr.write(`listening as RegistrationID ${registrationId}${o.user ? ` (user ${o.user})` : ''}; Ctrl-C to stop\n`);
  const stop = () => void client.disconnect().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
