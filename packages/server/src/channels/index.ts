/**
 * Offline channels: the device makers' push services (APNs, FCM, Huawei, …) that reach devices
 * without a gateway session. Each vendor gets an adapter behind this interface.
 */
/** A device to reach through its vendor; the adapter loads its token, vendor and locale in one query per batch. */
export interface OfflineTarget {
  registrationId: string;
  /** The message's seq in the device's inbox; null for all-users and tag pushes, which a device catches up with on connect instead. */
  seq: number | null;
  /** The badge to set on the device (its user's unread count, chat pushes). */
  badge?: number;
}

export interface OfflineBatch {
  appId: number;
  taskId: string;
  targets: readonly OfflineTarget[];
}

export interface OfflineChannels {
  /**
   * Called once per batch with the PushFlag 0 targets that had no gateway session when the push
   * was routed. The gateway still delivers it if they connect before it expires (from their inbox,
   * or by catching up with all-users and tag pushes).
   */
  sendOffline(batch: OfflineBatch): Promise<void>;
  /**
   * A push was recalled: overwrite or withdraw the notifications the vendors showed, where the
   * vendor can (APNs collapse id, FCM, Huawei, Honor; reference §2.3).
   */
  recall?(r: RecallRequest): Promise<void>;
}

export interface RecallRequest {
  appId: number;
  taskId: string;
  /** The recall's replacement content (its OfflinePushInfo), when given. */
  info?: Record<string, unknown>;
  /** Single and batch pushes: the devices that were also sent the push through their vendors. */
  vendorSent?: readonly string[];
}
