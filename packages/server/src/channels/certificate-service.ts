import type { Kysely } from 'kysely';
import webpush from 'web-push';
import type { Database } from '../store/index.js';
import { certificates } from '../store/index.js';
import type { CertificateRow } from '../store/certificates.js';
import { CERT_VENDORS, keepMaskedSecrets, maskConfig, parseVendorConfig, type CertVendor } from './certificates.js';

export interface CertificateView {
  certId: number;
  vendor: CertVendor;
  name: string;
  /** The config with its secrets masked. */
  config: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  /** `stopped` once its vendor refused it (certificate-health.ts), until it is replaced. */
  state: 'active' | 'stopped';
  /** Why and since when it is stopped. */
  stop?: { at: number; code: number; reason: string };
  /** When its vendor first took a send through it; absent = never yet. */
  provenAt?: number;
}

export type SaveResult = { ok: true; view: CertificateView } | { ok: false; reason: 'invalid'; message: string } | { ok: false; reason: 'not_found'; message: string };

export function isCertVendor(v: string): v is CertVendor {
  return (CERT_VENDORS as string[]).includes(v);
}

export function viewOf(row: CertificateRow): CertificateView {
  const vendor = row.vendor as CertVendor;
  return {
    certId: Number(row.cert_id),
    vendor,
    name: row.name,
    config: maskConfig(vendor, JSON.parse(row.config) as Record<string, unknown>),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    state: row.stopped_at === null ? 'active' : 'stopped',
    ...(row.stopped_at === null ? {} : { stop: { at: Number(row.stopped_at), code: Number(row.stop_code ?? 0), reason: row.stop_reason ?? '' } }),
    ...(row.proven_at === null ? {} : { provenAt: Number(row.proven_at) }),
  };
}

/**
 * Adds a certificate, or replaces one (`certId`). A Web Push certificate given only a subject gets
 * a fresh VAPID key pair; on update, secrets sent back masked keep their stored values.
 */
export async function saveCertificate(db: Kysely<Database>, appId: number, input: { certId?: number; vendor: CertVendor; name: string; config: Record<string, unknown> }, now = Date.now()): Promise<SaveResult> {
  let config = input.config;
  if (input.vendor === 'webpush' && config.publicKey === undefined && config.privateKey === undefined) {
    const keys = webpush.generateVAPIDKeys();
    config = { ...config, publicKey: keys.publicKey, privateKey: keys.privateKey };
  }
  let existing: CertificateRow | undefined;
  if (input.certId !== undefined) {
    existing = await certificates.findCertificate(db, appId, input.certId);
    if (!existing) return { ok: false, reason: 'not_found', message: `no certificate ${input.certId}` };
    if (existing.vendor !== input.vendor) return { ok: false, reason: 'invalid', message: `certificate ${input.certId} is for ${existing.vendor}` };
    config = keepMaskedSecrets(input.vendor, config, JSON.parse(existing.config) as Record<string, unknown>);
  }
  const parsed = parseVendorConfig(input.vendor, config);
  if (!parsed.ok) return { ok: false, reason: 'invalid', message: parsed.message };
  const json = JSON.stringify(parsed.config);
  const certId = existing ? Number(existing.cert_id) : await certificates.insertCertificate(db, appId, input.vendor, input.name, json, now);
  if (existing) await certificates.updateCertificate(db, appId, certId, input.name, json, now);
  return { ok: true, view: viewOf((await certificates.findCertificate(db, appId, certId))!) };
}
