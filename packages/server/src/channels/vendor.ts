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
}

/** What a vendor said about one device. `dead`: the token will never work again and is cleared. */
export type VendorResult =
  | { registrationId: string; outcome: 'sent' }
  | { registrationId: string; outcome: 'dead' | 'failed'; code: number; info: string };

/** One vendor's protocol. The config is that vendor's certificate (channels/certificates.ts), already checked. */
export interface VendorAdapter {
  send(config: Record<string, unknown>, message: VendorMessage, targets: readonly VendorTarget[]): Promise<VendorResult[]>;
}

/** Targets in batches of at most `max`, each batch one language variant: for vendors that send one payload to many tokens. */
export function batchesByLanguage(message: VendorMessage, targets: readonly VendorTarget[], max: number): VendorTarget[][] {
  const out: VendorTarget[][] = [];
  for (const group of groupBy(targets, (t) => message.variant(t.locale)).values()) {
    for (let i = 0; i < group.length; i += max) out.push(group.slice(i, i + max));
  }
  return out;
}

/** One outcome for every device of a batch request. */
export function resultForAll(part: readonly VendorTarget[], r: { outcome: 'sent' } | { outcome: 'dead' | 'failed'; code: number; info: string }): VendorResult[] {
  return part.map((t) => ({ registrationId: t.registrationId, ...r }));
}
