import type { Kysely } from 'kysely';
import { TimCode, TimError } from '../api/admin/envelope.js';
import { pushTemplates, type Database } from '../store/index.js';
import type { PushTemplateRow } from '../store/push-templates.js';
import type { LanguageContent } from './locale.js';
import type { OfflinePushInfo } from './offline-push-info.js';

/**
 * Push templates (reference §3.2, trtc.io/document/77715): `OfflinePushInfo.PushTemplateId` names a
 * template of the app, `{SDKAppID}-{n}`; its Title, Desc, MultiLanguageContent and Ext fill their
 * `{{Var}}` placeholders from `PushTemplateParam` and from Tencent's reserved variables.
 */

/** Tencent's reserved variables: the push's own Title and Desc, the sender's nickname, the group's name. */
export const RESERVED_VARIABLES = ['timTitle', 'timDesc', 'timSenderNick', 'timGroupName'] as const;
const RESERVED = new Set<string>(RESERVED_VARIABLES);

/** Values a chat push knows and an admin push does not. */
export interface ReservedValues {
  timSenderNick?: string;
  timGroupName?: string;
}

export interface PushTemplate {
  Title: string;
  Desc: string;
  MultiLanguageContent?: LanguageContent[];
  Ext?: string;
}

const NAME = '[A-Za-z_][A-Za-z0-9_]{0,63}';
const PLACEHOLDER = new RegExp(`\\{\\{(${NAME})\\}\\}`, 'g');

/** Why `text` has a malformed placeholder (a `{{` or `}}` that is not part of `{{Name}}`), or undefined. */
export function placeholderProblem(text: string): string | undefined {
  const rest = text.replace(PLACEHOLDER, '');
  const at = rest.search(/\{\{|\}\}/);
  if (at < 0) return undefined;
  return `malformed placeholder near "${rest.slice(Math.max(0, at - 10), at + 12)}": write {{Name}}, Name of letters, digits and _ (at most 64), not starting with a digit`;
}

/** `{SDKAppID}-{n}` as its two numbers, or undefined when it is not of that shape (no leading zeros: one id, one spelling). */
export function parseTemplateId(id: string): { appId: number; n: number } | undefined {
  const m = /^([1-9]\d{0,14})-([1-9]\d{0,14})$/.exec(id);
  return m ? { appId: Number(m[1]), n: Number(m[2]) } : undefined;
}

export const templateId = (appId: number, n: number): string => `${appId}-${n}`;

/** 90092, worded the same for an unknown, deleted or other app's id, so another app's ids are not revealed. */
export const noSuchTemplate = (id: string): TimError => new TimError(TimCode.noSuchTemplate, `no push template ${id} in this app`);

/** The n of one of this app's template ids; 90092 for an id of another app or of another shape. */
export function templateNumber(appId: number, id: string): number {
  const p = parseTemplateId(id);
  if (!p || p.appId !== appId) throw noSuchTemplate(id);
  return p.n;
}

export function templateOfRow(row: PushTemplateRow): PushTemplate {
  const t: PushTemplate = { Title: row.title, Desc: row.description };
  if (row.contents !== null) t.MultiLanguageContent = JSON.parse(row.contents) as LanguageContent[];
  if (row.ext !== null) t.Ext = row.ext;
  return t;
}

/** Replaces placeholders in one pass, so a value that itself reads `{{x}}` stays as it is. */
function filler(values: ReadonlyMap<string, string | undefined>, missing: Set<string>): (text: string) => string {
  return (text) =>
    text.replace(PLACEHOLDER, (whole, name: string) => {
      const v = values.get(name);
      if (v === undefined) {
        missing.add(name);
        return whole;
      }
      return v;
    });
}

/** Ext that is JSON is filled inside its string values, so a value with quotes keeps it valid JSON. */
function fillExt(ext: string, fill: (text: string) => string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ext);
  } catch {
    return fill(ext);
  }
  if (parsed === null || typeof parsed !== 'object') return fill(ext);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fill(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return JSON.stringify(walk(parsed));
}

/**
 * The push's OfflinePushInfo with the template's content: Title and Desc always from the template
 * (the push's own are its `{{timTitle}}` and `{{timDesc}}`), MultiLanguageContent from the template
 * when it has some (else the push's stays), Ext from the template only when the push has none.
 * Every other field of the push stays; PushTemplateId and PushTemplateParam are dropped, so the
 * result is what is sent and filling it again changes nothing. A placeholder with no value is an
 * error (90093) naming every such variable: better no push than a half-filled notification.
 */
export function fillPushTemplate(template: PushTemplate, info: OfflinePushInfo, reserved: ReservedValues = {}): OfflinePushInfo {
  const params = info.PushTemplateParam ?? {};
  const taken = Object.keys(params).filter((k) => RESERVED.has(k));
  if (taken.length > 0) throw new TimError(TimCode.templateParam, `PushTemplateParam cannot set the reserved variable${taken.length > 1 ? 's' : ''} ${taken.join(', ')}`);
  const values = new Map<string, string | undefined>(Object.entries(params));
  values.set('timTitle', info.Title);
  values.set('timDesc', info.Desc);
  values.set('timSenderNick', reserved.timSenderNick);
  values.set('timGroupName', reserved.timGroupName);
  const missing = new Set<string>();
  const fill = filler(values, missing);

  const { PushTemplateId: _id, PushTemplateParam: _param, ...rest } = info;
  const out: OfflinePushInfo = { ...rest, Title: fill(template.Title), Desc: fill(template.Desc) };
  if (template.MultiLanguageContent && template.MultiLanguageContent.length > 0) {
    out.MultiLanguageContent = template.MultiLanguageContent.map((e) => ({
      Language: e.Language,
      ...(e.Title !== undefined ? { Title: fill(e.Title) } : {}),
      ...(e.Desc !== undefined ? { Desc: fill(e.Desc) } : {}),
    }));
  }
  if (info.Ext === undefined && template.Ext !== undefined) out.Ext = fillExt(template.Ext, fill);
  if (missing.size > 0) {
    const names = [...missing];
    throw new TimError(TimCode.templateParam, `push template ${info.PushTemplateId ?? ''} needs a value for ${names.map((n) => `{{${n}}}`).join(', ')}${names.some((n) => RESERVED.has(n)) ? ' (reserved variables come from the push: timTitle its Title, timDesc its Desc; timSenderNick and timGroupName only on chat pushes)' : ' in PushTemplateParam'}`);
  }
  return out;
}

/**
 * Fills `info` from the app's template named by its PushTemplateId, or returns `info` itself when it
 * names none. One read per call (cached briefly), never per device. A template id of another app,
 * or one unknown or deleted, is 90092.
 */
export async function applyPushTemplate(db: Kysely<Database>, appId: number, info: OfflinePushInfo, reserved?: { timSenderNick?: string; timGroupName?: string }): Promise<OfflinePushInfo> {
  const id = info.PushTemplateId;
  if (id === undefined) return info;
  const row = await pushTemplates.readPushTemplate(db, appId, templateNumber(appId, id));
  if (!row) throw noSuchTemplate(id);
  return fillPushTemplate(templateOfRow(row), info, reserved);
}
