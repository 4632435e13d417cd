import { z } from 'zod';
import { noSuchTemplate, parseTemplateId, placeholderProblem, templateId, templateNumber, templateOfRow } from '../../dispatch/push-templates.js';
import { pushTemplates } from '../../store/index.js';
import type { PushTemplateFields, PushTemplateRow } from '../../store/push-templates.js';
import type { AdminCommand } from './context.js';
import { TimCode } from './envelope.js';
import { byteLength, parseBody } from './input.js';

/**
 * Herald's push template commands (Tencent keeps templates in its console; pushes name them by
 * `PushTemplateId`, reference §3.2): `set_push_template`, `get_push_templates`, `delete_push_template`.
 */

/** Text with `{{Var}}` placeholders, at most `max` bytes. */
const templated = (max: number) =>
  z.string().superRefine((s, ctx) => {
    if (byteLength(s) > max) ctx.addIssue({ code: 'custom', message: `at most ${max} bytes` });
    const problem = placeholderProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

// Bounds as a notification's: APNs keeps Desc + Ext under 3 KB (trtc.io/document/77715).
const TITLE_MAX = 256;
const DESC_MAX = 2048;
const EXT_MAX = 1024;

const Language = z.strictObject({
  Language: z.string().min(1).max(35),
  Title: templated(TITLE_MAX).optional(),
  Desc: templated(DESC_MAX).optional(),
});

// Strict: a misspelt field must not quietly drop part of a template.
const SetBody = z.strictObject({
  PushTemplateId: z.string().max(64).optional(),
  Name: z.string().min(1).max(100),
  Title: templated(TITLE_MAX).default(''),
  // Tencent sends no offline notification without text (tencentcloud.com/document/product/1047/33527)
  Desc: templated(DESC_MAX).refine((s) => s.length > 0, 'must not be empty'),
  MultiLanguageContent: z
    .array(Language)
    .max(100)
    .refine((l) => new Set(l.map((e) => e.Language.toLowerCase())).size === l.length, 'names a Language twice')
    .optional(),
  Ext: templated(EXT_MAX).optional(),
});
const GetBody = z.strictObject({ PushTemplateIds: z.array(z.string().max(64)).min(1).max(100).optional() });
const DeleteBody = z.strictObject({ PushTemplateId: z.string().max(64) });

function view(r: PushTemplateRow): Record<string, unknown> {
  return {
    PushTemplateId: templateId(Number(r.app_id), Number(r.template_id)),
    Name: r.name,
    ...templateOfRow(r),
    CreateTime: Math.floor(Number(r.created_at) / 1000),
    UpdateTime: Math.floor(Number(r.updated_at) / 1000),
  };
}

export const setPushTemplate: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(SetBody, body);
    const appId = caller.app.sdkAppId;
    const fields: PushTemplateFields = {
      name: b.Name,
      title: b.Title,
      description: b.Desc,
      contents: b.MultiLanguageContent?.length ? JSON.stringify(b.MultiLanguageContent) : null,
      ext: b.Ext ?? null,
    };
    const now = Date.now();
    let n: number;
    if (b.PushTemplateId === undefined) {
      n = await pushTemplates.insertPushTemplate(deps.db, appId, fields, now);
    } else {
      n = templateNumber(appId, b.PushTemplateId);
      if (!(await pushTemplates.updatePushTemplate(deps.db, appId, n, fields, now))) throw noSuchTemplate(b.PushTemplateId);
    }
    const row = (await pushTemplates.listPushTemplates(deps.db, appId, [n]))[0]!;
    return { PushTemplateId: templateId(appId, n), PushTemplate: view(row) };
  },
};

export const getPushTemplates: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(GetBody, body);
    const appId = caller.app.sdkAppId;
    if (b.PushTemplateIds === undefined) return { PushTemplates: (await pushTemplates.listPushTemplates(deps.db, appId)).map(view) };
    // Ids that are not this app's are reported like unknown ones, per id, beside those found.
    const wanted = new Map(b.PushTemplateIds.map((id) => [id, parseTemplateId(id)]));
    const ns = [...wanted.values()].flatMap((p) => (p && p.appId === appId ? [p.n] : []));
    const rows = await pushTemplates.listPushTemplates(deps.db, appId, ns);
    const found = new Set(rows.map((r) => templateId(appId, Number(r.template_id))));
    const missing = [...wanted.keys()].filter((id) => !found.has(id));
    return {
      PushTemplates: rows.map(view),
      ...(missing.length > 0 ? { ErrorList: missing.map((id) => ({ PushTemplateId: id, ErrorCode: TimCode.noSuchTemplate, ErrorInfo: 'no such push template in this app' })) } : {}),
    };
  },
};

export const deletePushTemplate: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(DeleteBody, body);
    const appId = caller.app.sdkAppId;
    if (!(await pushTemplates.deletePushTemplate(deps.db, appId, templateNumber(appId, b.PushTemplateId), Date.now()))) {
      throw noSuchTemplate(b.PushTemplateId);
    }
    return {};
  },
};
