/**
 * PushPlatform numbers. 0–8 are Tencent's (reference §5.1: 0 unknown/online, 1 APNs, 2 Xiaomi,
 * 3 Huawei, 4 FCM, 5 Meizu, 6 OPPO, 7 vivo, 8 Honor); Tencent numbers no others, so HarmonyOS,
 * Web Push and NIO get Herald's own 9, 10 and 11.
 */
export const PushPlatform = {
  unknown: 0,
  apns: 1,
  xiaomi: 2,
  huawei: 3,
  fcm: 4,
  meizu: 5,
  oppo: 6,
  vivo: 7,
  honor: 8,
  harmony: 9,
  webpush: 10,
  nio: 11,
} as const;
export type PushPlatform = (typeof PushPlatform)[keyof typeof PushPlatform];

export const PLATFORM_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(PushPlatform).map(([k, v]) => [v, k]));

/** The platform of a device's vendor (`apns-voip` is APNs); 0 when it has none. */
export function platformOf(vendor: string | null | undefined): PushPlatform {
  if (!vendor) return PushPlatform.unknown;
  const v = vendor === 'apns-voip' ? 'apns' : vendor;
  return (PushPlatform as Record<string, PushPlatform>)[v] ?? PushPlatform.unknown;
}

/** Tencent's EventType: 1 offline push (a vendor channel), 2 online push (Herald's gateway). */
export const EventType = { offline: 1, online: 2 } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];
