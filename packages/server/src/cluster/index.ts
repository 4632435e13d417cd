/**
 * Presence and routing: which devices hold a gateway session, and how a frame reaches the process
 * that holds it. The embedded default routes in-process; cluster mode swaps in a Redis driver with
 * the same interface.
 */

/** One inbox message on its way to one device. */
export interface Delivery {
  registrationId: string;
  seq: number;
  /** The complete `msg` frame, serialized once per message variant. */
  frame: string;
}

/** What the gateway exposes for each live session. */
export interface SessionSink {
  deliver(d: Delivery): void;
  /** Control frames such as `revoke`, sent as they are. */
  send(frame: string): void;
  close(code: number, reason: string): void;
}

/** The gateway's own sessions in this process. */
export interface LocalSessions {
  get(appId: number, registrationId: string): SessionSink | undefined;
  /** Every device of the app with a session here. */
  connectedDevices(appId: number): string[];
}

export interface Router {
  /** The devices of an app that hold a session in this process (each process serves its own first when a push goes to many). */
  localDevices(appId: number): string[];
  /** The subset of these devices that hold a live session anywhere. */
  online(appId: number, registrationIds: readonly string[]): Promise<Set<string>>;
  /** Hands messages to the sessions holding these devices; devices without one are skipped (their inbox keeps the message). */
  deliver(appId: number, deliveries: readonly Delivery[]): Promise<void>;
  /** Sends a control frame to each of these devices that is connected. */
  broadcastControl(appId: number, registrationIds: readonly string[], frame: string): Promise<void>;
  /** Closes the session of a device, wherever it is. */
  kick(appId: number, registrationId: string, code: number, reason: string): Promise<void>;
  close(): Promise<void>;
}

export { LocalRouter } from './local-router.js';
