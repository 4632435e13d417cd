import { z } from 'zod';

/**
 * Vendor credentials per app ("certificates", as Tencent's console calls them; a device reports
 * the numeric id as its businessID). One schema per vendor, with the fields each vendor's server
 * API needs (vendor-protocols.md §§1–10), and the fields that are secrets: never returned in full.
 */
const text = (max = 256) => z.string().min(1).max(max);
const pem = z.string().min(1).max(8192).refine((s) => s.includes('-----BEGIN') && s.includes('PRIVATE KEY-----'), 'must be a PEM private key');
/** Every vendor client takes its base URL from config, so tests and demos can use the emulators. */
const baseUrl = z.url().optional();
/** APNs: the CA that signs a private endpoint's TLS certificate (a relay, or the emulator), as PEM. */
/** Huawei and Honor badges name the app's launcher activity, e.g. com.example.app.MainActivity (§3.2, §5). */
const badgeClass = z.string().regex(/^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)+$/, 'must be a Java class name').max(256).optional();
const caCertificate = z.string().max(16384).refine((s) => s.includes('-----BEGIN CERTIFICATE-----'), 'must be a PEM certificate').optional();
/**
 * How hard Herald may drive this certificate: requests in flight at once and devices per second
 * (0 = unpaced). Absent, HERALD_VENDOR_CONCURRENCY and HERALD_VENDOR_RATE apply.
 */
const limits = z.strictObject({ concurrency: z.number().int().min(1).max(256).optional(), perSecond: z.number().min(0).max(1_000_000).optional() }).optional();

export const VendorConfig = {
  // APNs token auth: ES256 JWT from the .p8 key (§1.2)
  // maxStreams: requests in flight for this certificate over all HTTP/2 sessions (1 = one at a time)
  apns: z.strictObject({ keyId: z.string().length(10), teamId: z.string().length(10), bundleId: text(), privateKey: pem, production: z.boolean(), voipTopic: text().optional(), baseUrl, limits, caCertificate, maxStreams: z.number().int().min(1).max(1000).optional() }),
  // FCM HTTP v1: service-account JWT bearer grant (§2.2)
  fcm: z.strictObject({
    serviceAccount: z.looseObject({ project_id: text(), client_email: text(), private_key: pem, token_uri: z.url().optional() }),
    baseUrl,
    tokenUrl: z.url().optional(),
    caCertificate,
    limits,
  }),
  // Huawei Push Kit: OAuth client credentials (§3.1)
  huawei: z.strictObject({ clientId: text(), clientSecret: text(), baseUrl, tokenUrl: z.url().optional(), badgeClass, limits }),
  // Honor: OAuth client credentials and the app id in the send path (§5)
  honor: z.strictObject({ appId: text(), clientId: text(), clientSecret: text(), baseUrl, tokenUrl: z.url().optional(), badgeClass, limits }),
  // Xiaomi: AppSecret in the Authorization header, restricted package name (§6.1)
  xiaomi: z.strictObject({ appSecret: text(), packageName: text(), baseUrl, limits }),
  // OPPO: AppKey + MasterSecret signed into an auth_token (§7.1); category: the message category of
  // pushes that name none (OPPO's categories, §7.2), for apps on OPPO's message classification
  oppo: z.strictObject({ appKey: text(), masterSecret: text(), category: z.enum(['IM', 'ACCOUNT', 'TODO', 'DEVICE_REMINDER', 'ORDER', 'SUBSCRIPTION', 'NEWS', 'CONTENT', 'MARKETING', 'SOCIAL']).optional(), baseUrl, limits }),
  // vivo: AppId/AppKey/AppSecret signed into an authToken (§8)
  vivo: z.strictObject({ appId: text(), appKey: text(), appSecret: text(), baseUrl, limits }),
  // Meizu: AppId/AppSecret, MD5 sign per request (§9)
  meizu: z.strictObject({ appId: text(), appSecret: text(), baseUrl, limits }),
  // HarmonyOS NEXT: service-account PS256 JWT (§4.2)
  harmony: z.strictObject({
    projectId: text(),
    // only the revoke API needs the app's client id: it is a v1 path (§4.4)
    clientId: text().optional(),
    serviceAccount: z.looseObject({ key_id: text(), private_key: pem, sub: text().optional(), iss: text().optional() }),
    baseUrl,
    limits,
  }),
  // Web Push: VAPID key pair and subject (RFC 8292; §10)
  webpush: z.strictObject({ publicKey: text(200), privateKey: text(200), subject: z.string().regex(/^(mailto:|https:)/, 'subject must be a mailto: or https: URL'), limits }),
} as const;

export type CertVendor = keyof typeof VendorConfig;
export const CERT_VENDORS = Object.keys(VendorConfig) as CertVendor[];

/** Paths of the secret fields of each vendor's config. */
const SECRETS: Record<CertVendor, string[][]> = {
  apns: [['privateKey']],
  fcm: [['serviceAccount', 'private_key'], ['serviceAccount', 'private_key_id']],
  huawei: [['clientSecret']],
  honor: [['clientSecret']],
  xiaomi: [['appSecret']],
  oppo: [['masterSecret']],
  vivo: [['appSecret']],
  meizu: [['appSecret']],
  harmony: [['serviceAccount', 'private_key']],
  webpush: [['privateKey']],
};

const MASK = '****';

/** What a secret looks like once stored: enough to recognise it, not enough to use it. */
export function maskSecret(s: string): string {
  const tail = s.trim().slice(-4);
  return `${MASK}${s.includes('PRIVATE KEY') ? '' : tail}`;
}

type Json = Record<string, unknown>;

function walk(config: Json, path: string[], fn: (v: unknown) => unknown): void {
  let node: unknown = config;
  for (const k of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Json)[k];
  }
  const last = path[path.length - 1]!;
  if (typeof node === 'object' && node !== null && last in (node as Json)) (node as Json)[last] = fn((node as Json)[last]);
}

/** A copy of the config with every secret masked. */
export function maskConfig(vendor: CertVendor, config: Json): Json {
  const copy = structuredClone(config);
  for (const path of SECRETS[vendor]) walk(copy, path, (v) => (typeof v === 'string' ? maskSecret(v) : v));
  return copy;
}

/**
 * For an update: a secret sent back masked (as a console shows it) keeps the stored value, so a
 * client can change a name or a flag without holding the secret.
 */
export function keepMaskedSecrets(vendor: CertVendor, incoming: Json, stored: Json): Json {
  const copy = structuredClone(incoming);
  for (const path of SECRETS[vendor]) {
    let old: unknown = stored;
    for (const k of path) old = typeof old === 'object' && old !== null ? (old as Json)[k] : undefined;
    walk(copy, path, (v) => (typeof v === 'string' && v.startsWith(MASK) && typeof old === 'string' ? old : v));
  }
  return copy;
}

export type ParsedConfig = { ok: true; config: Json } | { ok: false; message: string };

export function parseVendorConfig(vendor: CertVendor, config: unknown): ParsedConfig {
  const r = VendorConfig[vendor].safeParse(config);
  if (r.success) return { ok: true, config: r.data as Json };
  const issue = r.error.issues[0];
  return { ok: false, message: `Config.${issue?.path.join('.') || ''}: ${issue?.message ?? 'invalid'}` };
}
