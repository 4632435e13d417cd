import { WebSocket } from 'ws';

export interface DeviceLogin {
  wsUrl: string;
  sdkAppId: number;
  registrationId: string;
  credential: string;
}

/**
 * Opens one bench device's gateway connection and resolves once the server said `ready` (rejects on
 * anything else). Frames after `ready` go to `onFrame`; a close after `ready` to `onClose`.
 */
export function connectDevice(login: DeviceLogin, localAddress: string, onFrame: (ws: WebSocket, data: Buffer) => void, onClose: (code: number, reason: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(login.wsUrl, { perMessageDeflate: false, localAddress, handshakeTimeout: 30_000 });
    let authed = false;
    ws.on('open', () => ws.send(JSON.stringify({ t: 'auth', sdkAppId: login.sdkAppId, registrationId: login.registrationId, credential: login.credential, sdkVersion: 'bench/1' })));
    ws.on('message', (data: Buffer) => {
      if (authed) return onFrame(ws, data);
      const f = JSON.parse(data.toString()) as { t: string };
      if (f.t !== 'ready') return reject(new Error(`expected ready, got ${data.toString().slice(0, 200)}`));
      authed = true;
      resolve();
    });
    ws.on('error', (err) => reject(err));
    ws.on('close', (code, reason) => {
      if (!authed) reject(new Error(`closed ${code} ${reason.toString()} before ready`));
      else onClose(code, reason.toString());
    });
  });
}
