/**
 * Offline channels: the device makers' push services (APNs, FCM, Huawei, …) that reach devices
 * without a gateway session. Each vendor gets an adapter behind this interface.
 */
export interface OfflineTarget {
  registrationId: string;
  userId: string | null;
  locale: string | null;
  seq: number;
}

export interface OfflineBatch {
  appId: number;
  taskId: string;
  targets: readonly OfflineTarget[];
}

export interface OfflineChannels {
  /**
   * Called once per batch with the PushFlag 0 targets that had no gateway session when the push
   * was routed. Their inbox keeps the message either way, so the gateway delivers it if they
   * connect before it expires.
   */
  sendOffline(batch: OfflineBatch): Promise<void>;
}

/** Until vendor adapters are configured, offline devices are served from their inbox on reconnect. */
export const inboxOnly: OfflineChannels = {
  async sendOffline() {},
};
