import type { Kysely, Selectable } from 'kysely';
import type { CertificatesTable, Database } from './schema.js';
import { nextId } from './app-counters.js';

export type CertificateRow = Selectable<CertificatesTable>;

/** Stores a new certificate under the app's next id (1, 2, …). */
export async function insertCertificate(db: Kysely<Database>, appId: number, vendor: string, name: string, config: string, now: number): Promise<number> {
  const id = await nextId(db, appId, 'certificates');
  await db.insertInto('certificates').values({ app_id: appId, cert_id: id, vendor, name, config, created_at: now, updated_at: now, stopped_at: null, stop_code: null, stop_reason: null, proven_at: null }).execute();
  return id;
}

/** Replaces a certificate's name and credentials; new credentials start in use and not yet proven. */
export async function updateCertificate(db: Kysely<Database>, appId: number, certId: number, name: string, config: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('certificates')
    .set({ name, config, updated_at: now, stopped_at: null, stop_code: null, stop_reason: null, proven_at: null })
    .where('app_id', '=', appId)
    .where('cert_id', '=', certId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Records that the vendor refused these credentials (or refused them again on a probe). Only the
 * credentials it was sent with: a certificate replaced meanwhile (`updated_at` moved on) is left.
 */
export async function markStopped(db: Kysely<Database>, appId: number, certId: number, updatedAt: number, stop: { at: number; code: number; reason: string }): Promise<void> {
  await db
    .updateTable('certificates')
    .set({ stopped_at: stop.at, stop_code: stop.code, stop_reason: stop.reason })
    .where('app_id', '=', appId)
    .where('cert_id', '=', certId)
    .where('updated_at', '=', updatedAt)
    .execute();
}

/** Records that the vendor took a send through these credentials: in use again, and proven. */
export async function markWorking(db: Kysely<Database>, appId: number, certId: number, updatedAt: number, now: number): Promise<void> {
  await db
    .updateTable('certificates')
    .set((eb) => ({ stopped_at: null, stop_code: null, stop_reason: null, proven_at: eb.fn.coalesce('proven_at', eb.val(now)) }))
    .where('app_id', '=', appId)
    .where('cert_id', '=', certId)
    .where('updated_at', '=', updatedAt)
    .execute();
}

/** Ends a stop without a send (a check of the credentials passed): the next batch goes through. */
export async function clearStop(db: Kysely<Database>, appId: number, certId: number, updatedAt: number): Promise<void> {
  await db.updateTable('certificates').set({ stopped_at: null, stop_code: null, stop_reason: null }).where('app_id', '=', appId).where('cert_id', '=', certId).where('updated_at', '=', updatedAt).execute();
}

/** Every stopped certificate of every app, for /metrics. */
export async function stoppedCertificates(db: Kysely<Database>): Promise<Pick<CertificateRow, 'app_id' | 'cert_id' | 'vendor'>[]> {
  return db.selectFrom('certificates').select(['app_id', 'cert_id', 'vendor']).where('stopped_at', 'is not', null).execute();
}

export async function findCertificate(db: Kysely<Database>, appId: number, certId: number): Promise<CertificateRow | undefined> {
  return db.selectFrom('certificates').selectAll().where('app_id', '=', appId).where('cert_id', '=', certId).executeTakeFirst();
}

export async function listCertificates(db: Kysely<Database>, appId: number): Promise<CertificateRow[]> {
  return db.selectFrom('certificates').selectAll().where('app_id', '=', appId).orderBy('cert_id').execute();
}

export async function deleteCertificate(db: Kysely<Database>, appId: number, certId: number): Promise<boolean> {
  const r = await db.deleteFrom('certificates').where('app_id', '=', appId).where('cert_id', '=', certId).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}
