import { z } from 'zod';
import { CERT_VENDORS } from '../../channels/certificates.js';
import { saveCertificate, viewOf, type CertificateView } from '../../channels/certificate-service.js';
import { receiptPath } from '../../channels/receipt-urls.js';
import { certificates, type App } from '../../store/index.js';
import type { AdminCommand, AdminDeps } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { parseBody } from './input.js';

/**
 * Herald's certificate commands (Tencent manages these in its console): `set_certificate`,
 * `get_certificates`, `delete_certificate`. Secrets are stored and never returned in full.
 */
const CertId = z.number().int().positive();
const SetBody = z.object({
  CertId: CertId.optional(),
  Vendor: z.enum(CERT_VENDORS as [string, ...string[]]),
  Name: z.string().min(1).max(100),
  Config: z.record(z.string(), z.unknown()),
});
const GetBody = z.object({ CertId: CertId.optional() });
/** A body naming one certificate (delete_certificate, check_certificate). */
const OneCertificate = z.object({ CertId: CertId });

/**
 * `ReceiptUrl`: where this certificate's vendor posts delivery receipts. Vendors that take it per
 * message get it from Herald; for those configured in the vendor's console (Huawei, HarmonyOS),
 * the operator enters this URL there.
 */
const out = (v: CertificateView, app: App, deps: AdminDeps) => {
  const base = deps.publicUrl();
  return {
    CertId: v.certId,
    Vendor: v.vendor,
    Name: v.name,
    Config: v.config,
    ...(base ? { ReceiptUrl: base + receiptPath(app.secretKey, v.vendor, app.sdkAppId, v.certId) } : {}),
    CreateTime: Math.floor(v.createdAt / 1000),
    UpdateTime: Math.floor(v.updatedAt / 1000),
    ...certificateState(v),
  };
};

/**
 * A certificate's state as the admin API shows it: `active`, or `stopped` with when and the
 * vendor's answer that stopped it; `Proven` once its vendor has taken a send through it.
 */
export function certificateState(v: CertificateView): Record<string, unknown> {
  return {
    State: v.state,
    ...(v.stop ? { StopTime: Math.floor(v.stop.at / 1000), StopErrCode: v.stop.code, StopReason: v.stop.reason } : {}),
    Proven: v.provenAt !== undefined,
  };
}

export const setCertificate: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(SetBody, body);
    const r = await saveCertificate(deps.db, caller.app.sdkAppId, { certId: b.CertId, vendor: b.Vendor as (typeof CERT_VENDORS)[number], name: b.Name, config: b.Config });
    if (!r.ok) throw new TimError(r.reason === 'not_found' ? TimCode.noSuchCertificate : TimCode.jsonParse, r.message);
    return { CertId: r.view.certId, Certificate: out(r.view, caller.app, deps) };
  },
};

export const getCertificates: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(GetBody, body);
    const rows = await certificates.listCertificates(deps.db, caller.app.sdkAppId);
    const picked = b.CertId === undefined ? rows : rows.filter((r) => Number(r.cert_id) === b.CertId);
    if (b.CertId !== undefined && picked.length === 0) throw new TimError(TimCode.noSuchCertificate, `no certificate ${b.CertId}`);
    return { Certificates: picked.map((r) => out(viewOf(r), caller.app, deps)) };
  },
};

/**
 * `check_certificate` (Herald's): tries the certificate's credentials against its vendor without
 * notifying anyone (an access token issued, a JWT accepted, a harmless call answered). `Ok` and
 * `Info` say what the vendor answered; a stopped certificate that passes is in use again.
 */
export const checkCertificate: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(OneCertificate, body);
    const checked = await deps.checkCertificate(caller.app.sdkAppId, b.CertId);
    if (!checked) throw new TimError(TimCode.noSuchCertificate, `no certificate ${b.CertId}`);
    const r = checked.result;
    return { CertId: b.CertId, Vendor: checked.vendor, Ok: r.ok, ...(r.ok ? {} : { VendorErrCode: r.code }), Info: r.info };
  },
};

export const deleteCertificate: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(OneCertificate, body);
    if (!(await certificates.deleteCertificate(deps.db, caller.app.sdkAppId, b.CertId))) throw new TimError(TimCode.noSuchCertificate, `no certificate ${b.CertId}`);
    return {};
  },
};
