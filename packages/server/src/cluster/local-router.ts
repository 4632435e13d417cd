import type { Delivery, LocalSessions, Router } from './index.js';

/** The embedded default: every session lives in this process, so routing is a map lookup. */
export class LocalRouter implements Router {
  constructor(
    private sessions: LocalSessions,
    /** Told which deliveries were handed to a session (the gateway channel's sends). */
    private handedOver: (appId: number, deliveries: readonly Delivery[]) => void = () => {},
  ) {}

  localDevices(appId: number): string[] {
    return this.sessions.connectedDevices(appId);
  }

  async online(appId: number, registrationIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const id of registrationIds) if (this.sessions.get(appId, id)) out.add(id);
    return out;
  }

  async deliver(appId: number, deliveries: readonly Delivery[]): Promise<void> {
    const handed: Delivery[] = [];
    for (const d of deliveries) {
      const s = this.sessions.get(appId, d.registrationId);
      if (!s) continue;
      s.deliver(d);
      handed.push(d);
    }
    if (handed.length > 0) this.handedOver(appId, handed);
  }

  async broadcastControl(appId: number, registrationIds: readonly string[], frame: string): Promise<void> {
    for (const id of registrationIds) this.sessions.get(appId, id)?.send(frame);
  }

  async kick(appId: number, registrationId: string, code: number, reason: string): Promise<void> {
    this.sessions.get(appId, registrationId)?.close(code, reason);
  }

  async close(): Promise<void> {}
}
