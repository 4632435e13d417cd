import type { Kysely, Selectable } from 'kysely';
import type { CertificatesTable, Database } from './schema.js';
import { nextId } from './app-counters.js';

export type CertificateRow = Selectable<CertificatesTable>;

/** Stores a new certificate under the app's next id (1, 2, …). */
export async function insertCertificate(db: Kysely<Database>, appId: number, vendor: string, name: string, config: string, now: number): Promise<number> {
  const id = await nextId(db, appId, 'certificates');
  await db.insertInto('certificates').values({ app_id: appId, cert_id: id, vendor, name, config, created_at: now, updated_at: now }).execute();
  return id;
}

export async function updateCertificate(db: Kysely<Database>, appId: number, certId: number, name: string, config: string, now: number): Promise<boolean> {
  const r = await db.updateTable('certificates').set({ name, config, updated_at: now }).where('app_id', '=', appId).where('cert_id', '=', certId).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
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
