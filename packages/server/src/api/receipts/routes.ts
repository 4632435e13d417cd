import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { CERT_VENDORS, type CertVendor } from '../../channels/certificates.js';
import { acceptReceipts } from '../../channels/receipt-intake.js';
import { receiptSignatureValid } from '../../channels/receipt-urls.js';
import type { VendorAdapter } from '../../channels/vendor.js';
import type { Logger } from '../../log.js';
import type { StatsRecorder } from '../../stats/recorder.js';
import type { AppDirectory, Database } from '../../store/index.js';

export interface ReceiptDeps {
  db: Kysely<Database>;
  apps: AppDirectory;
  adapters: Partial<Record<CertVendor, VendorAdapter>>;
  stats: StatsRecorder;
  log: Logger;
}

const Params = z.object({
  vendor: z.enum(CERT_VENDORS as [CertVendor, ...CertVendor[]]),
  appId: z.coerce.number().int().positive(),
  certId: z.coerce.number().int().positive(),
  sig: z.string().min(1).max(64),
});

/** Vendors' receipt bodies are small; a whole batch of Huawei receipts stays well under this. */
const BODY_LIMIT = 1024 * 1024;

/**
 * `POST /v1/receipts/{vendor}/{appId}/{certId}/{sig}`: where vendors post delivery receipts. The
 * adapter of that vendor reads its own format; the URL's signature proves the poster was given it.
 * Answers 200 once recorded, so the vendor does not resend; anything unreadable answers 400.
 */
export async function receiptRoutes(app: FastifyInstance, deps: ReceiptDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.post('/v1/receipts/:vendor/:appId/:certId/:sig', async (req, reply) => {
    const p = Params.safeParse(req.params);
    if (!p.success) return reply.code(404).send({ code: 404, message: 'no such receipt endpoint' });
    const { vendor, appId, certId, sig } = p.data;
    const found = await deps.apps.get(appId);
    const adapter = deps.adapters[vendor];
    if (!found || !adapter?.receipts || !receiptSignatureValid(found.secretKey, vendor, appId, certId, sig)) {
      return reply.code(404).send({ code: 404, message: 'no such receipt endpoint' });
    }
    let list;
    try {
      list = adapter.receipts(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), String(req.headers['content-type'] ?? ''));
    } catch (err) {
      return reply.code(400).send({ code: 400, message: `unreadable receipt: ${(err as Error).message}` });
    }
    await acceptReceipts(deps.db, deps.stats, appId, vendor, list);
    return reply.code(200).send({ code: 0, message: 'success' });
  });
}
