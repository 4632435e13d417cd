import type { DeviceMessage } from '../dispatch/message.js';
import { groupBy } from '../util/group-by.js';

/** One push as a vendor adapter sends it: rendered per device language. */
export interface VendorMessage {
  taskId: string;
  expiresAt: number;
  render(locale: string | null): DeviceMessage;
  /** Which MultiLanguageContent entry a locale picks ('' for the default text): devices with the same one can share a request. */
  variant(locale: string | null): string;
}

export interface VendorTarget {
  registrationId: string;
  token: string;
  locale: string | null;
  /** APNs only: the device's PushKit VoIP token, used for `IsVoipPush` pushes when present. */
  voipToken?: string | null;
  /**
   * The badge to set on this device (its user's unread count, for chat pushes): where the vendor
   * can set a badge it wins over the message's BadgeSetNum/BadgeAddNum. Adapters that send one
   * payload to many tokens group targets by it.
   */
  badge?: number;
}

/** What Herald tells an adapter besides the message. */
export interface SendContext {
  /**
   * The certificate has had a send accepted before. Some vendors give one answer for a dead token
   * and for a certificate of the wrong environment (APNs `BadDeviceToken`): only a certificate
   * known to work may read it as a dead token.
   */
  certificateProven?: boolean;
  /**
   * Where the vendor should post delivery receipts for this push (routes/receipts), when Herald
   * knows its public URL (`HERALD_PUBLIC_URL`). Adapters put it in the vendor's callback field.
   */
  receiptUrl?: string;
}

/** One fact a vendor's delivery receipt reports. */
export interface ReceiptEvent {
  /** Herald's TaskId, which the adapter sent as the vendor's callback parameter. */
  taskId: string;
  /** The device's vendor token, when the receipt names it (needed for `dead`). */
  token?: string;
  /** How many devices this event stands for (a receipt may count rather than list). */
  count?: number;
  outcome: 'reached' | 'dead' | 'failed';
  code?: number;
  info?: string;
}

/**
 * What a vendor said about one device, sorted by what Herald must do about it. Each adapter maps
 * its vendor's answers onto these from the vendor's own documentation (docs/vendors.md lists them):
 *
 * - `sent`: the vendor took the message.
 * - `dead`: the answer can only mean the token is gone for good (the app was uninstalled, the
 *   token expired or was never valid): the token is cleared. Never for an answer that a wrong
 *   certificate or configuration can also give.
 * - `failed`: not delivered this time (a busy vendor after retries, a message the vendor refuses);
 *   the token stays. With `pauseMs`, the certificate's quota is spent: Herald sends nothing more
 *   through it for that long and counts those devices as lost with the same code.
 * - `switched_off`: the device still has the app, but its user turned notifications off: the
 *   token stays and the device's notification permission is recorded as denied.
 * - `certificate`: the vendor refused the certificate itself (wrong key, project, package or
 *   environment): the certificate is stopped (certificate-health.ts), every token stays.
 */
export type VendorResult =
  | { registrationId: string; outcome: 'sent' }
  | { registrationId: string; outcome: 'dead'; code: number; info: string; /** APNs: about the device's VoIP token, which is the one cleared. */ voip?: boolean }
  | { registrationId: string; outcome: 'failed'; code: number; info: string; pauseMs?: number }
  | { registrationId: string; outcome: 'switched_off' | 'certificate'; code: number; info: string };

/** A VendorResult's outcome and details, without the device: what one answer says of a whole batch. */
export type BatchOutcome = { outcome: 'sent' } | { outcome: 'dead' | 'switched_off' | 'certificate'; code: number; info: string } | { outcome: 'failed'; code: number; info: string; pauseMs?: number };

/** One vendor's protocol. The config is that vendor's certificate (channels/certificates.ts), already checked. */
export interface VendorAdapter {
  send(config: Record<string, unknown>, message: VendorMessage, targets: readonly VendorTarget[], ctx: SendContext): Promise<VendorResult[]>;
  /**
   * The push was recalled: withdraw it (a vendor revoke API) or overwrite it (the same collapse
   * id, tag or notify id with the replacement) on these devices, where the vendor can.
   */
  recall?(config: Record<string, unknown>, r: { message: VendorMessage; targets: readonly VendorTarget[] }): Promise<void>;
  /** True when `recall` removes the notification outright, so it is harmless for a device that never showed it. */
  recallWithdraws?: boolean;
  /** Reads a delivery receipt this vendor posted to `SendContext.receiptUrl`. */
  receipts?(body: Buffer, contentType: string): ReceiptEvent[];
  /**
   * Tries the certificate's credentials against the vendor without notifying anyone (an access
   * token issued, a JWT accepted, a harmless call answered): `check_certificate` and
   * `herald cert check` show the verdict.
   */
  check?(config: Record<string, unknown>): Promise<CertificateCheck>;
}

/** A certificate check's verdict: `ok`, or what the vendor answered and what it means. */
export type CertificateCheck = { ok: true; info: string } | { ok: false; code: number; info: string };

/**
 * Targets in batches of at most `max`, each batch one language variant: for vendors that send one
 * payload to many tokens. With `byBadge`, also one `badge` value, for vendors whose payload sets it.
 */
export function batchesByLanguage(message: VendorMessage, targets: readonly VendorTarget[], max: number, byBadge = false): VendorTarget[][] {
  const out: VendorTarget[][] = [];
  for (const group of groupBy(targets, (t) => (byBadge ? `${message.variant(t.locale)}\u0000${t.badge ?? ''}` : message.variant(t.locale))).values()) {
    for (let i = 0; i < group.length; i += max) out.push(group.slice(i, i + max));
  }
  return out;
}

/** One outcome for every device of a batch request. */
export function resultForAll(part: readonly VendorTarget[], r: BatchOutcome): VendorResult[] {
  return part.map((t) => ({ registrationId: t.registrationId, ...r }) as VendorResult);
}

/**
 * Recall by overwriting, for vendors with no withdrawal API: the replacement is sent to the same
 * devices under the push's own notify id, tag or topic (each adapter derives it from the TaskId),
 * so it takes the place of the notification shown.
 */
export function overwriteRecall(adapter: Pick<VendorAdapter, 'send'>): NonNullable<VendorAdapter['recall']> {
  return async (config, r) => {
    await adapter.send(config, r.message, r.targets, {});
  };
}
