import type { DeviceMessage } from '../dispatch/message.js';

/** One push as a vendor adapter sends it: rendered per device language. */
export interface VendorMessage {
  taskId: string;
  expiresAt: number;
  render(locale: string | null): DeviceMessage;
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
