import type { BatchPushAcceptor, BroadcastPushDeps } from '../../dispatch/index.js';
import type { RevokeDeps } from '../../dispatch/revoke.js';
import type { Kysely } from 'kysely';
import type { CallbackOutbox } from '../../callbacks/index.js';
import type { CertificateCheck } from '../../channels/vendor.js';
import type { FailureGuard } from '../../limits/index.js';
import type { AppDirectory, Database } from '../../store/index.js';
import type { Metrics } from '../metrics.js';
import type { AdminCaller } from './auth.js';

/** What admin commands may use. */
export interface AdminDeps {
  db: Kysely<Database>;
  apps: AppDirectory;
  push: BatchPushAcceptor;
  broadcast: BroadcastPushDeps;
  revoke: RevokeDeps;
  /** When each app last recalled a push (Tencent allows one recall a second). */
  lastRecall: Map<number, number>;
  metrics: Metrics;
  /** Where vendors reach Herald (HERALD_PUBLIC_URL, or the listening address once known). */
  publicUrl(): string | undefined;
  /** The app's callback rows and config (set_callback, get_callback). */
  callbacks: CallbackOutbox;
  /** Failed UserSig checks per source address and app. */
  authFailures: FailureGuard;
  /** Tries a certificate's credentials against its vendor (`check_certificate`); undefined: no such certificate. */
  checkCertificate(appId: number, certId: number): Promise<{ vendor: string; result: CertificateCheck } | undefined>;
}

export interface AdminCommand {
  /** Tencent's code for "needs App admin" on this command. */
  adminCode: number;
  handle(caller: AdminCaller, body: Record<string, unknown>, deps: AdminDeps): Promise<Record<string, unknown>>;
}
