import { z } from 'zod';
import { audience } from '../../store/index.js';
import { byteLength, callAccounts, parseBody, withErrors } from './input.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';

/** Attribute commands (reference §2.4; trtc.io/document/60563, 67815, 60565, 67817, 67819). */

const Slot = z.string().regex(/^[0-9]$/, 'attribute keys are "0" to "9"');
const Account = z.string().min(1).max(128);

const SetAttrNameBody = z.object({
  AttrNames: z.record(Slot, z.string().min(1).refine((s) => byteLength(s) <= 50, 'attribute names are at most 50 bytes')),
  AttrTypes: z.record(Slot, z.union([z.literal(0), z.literal(1)])).optional(),
});

const SetAttrBody = z.object({
  UserAttrs: z.array(z.object({ To_Account: Account, Attrs: z.record(z.string(), z.string()) })).min(1),
});
const GetAttrBody = z.object({ To_Account: z.array(Account).min(1) });
const RemoveAttrBody = z.object({
  UserAttrs: z.array(z.object({ To_Account: Account, Attrs: z.array(z.string()).min(1) })).min(1),
});

const admin = TimCode.pushNeedAdmin;

export const setAttrName: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(SetAttrNameBody, body);
    const appId = caller.app.sdkAppId;
    const wanted = Object.entries(b.AttrNames).map(([slot, name]) => ({ slot: Number(slot), name, type: b.AttrTypes?.[slot] }));
    if (new Set(wanted.map((w) => w.name)).size !== wanted.length) throw new TimError(TimCode.invalidAttr, 'an attribute name is given twice');
    await deps.db.transaction().execute(async (tx) => {
      await audience.lockAttrNames(tx, appId);
      const current = await audience.attrNames(tx, appId);
      const bySlot = new Map(current.map((c) => [c.slot, c]));
      const names: audience.AttrName[] = [];
      for (const w of wanted) {
        const existing = bySlot.get(w.slot);
        // Tencent: an attribute's account type cannot change once set
        if (existing && w.type !== undefined && w.type !== existing.accountType) throw new TimError(TimCode.invalidAttr, `attribute ${w.slot} is already of account type ${existing.accountType}`);
        const clash = current.find((c) => c.name === w.name && c.slot !== w.slot && !wanted.some((x) => x.slot === c.slot));
        if (clash) throw new TimError(TimCode.invalidAttr, `attribute name ${w.name} is already used by key ${clash.slot}`);
        names.push({ slot: w.slot, name: w.name, accountType: (w.type ?? existing?.accountType ?? 0) as audience.AccountType });
      }
      await audience.putAttrNames(tx, appId, names);
    });
    return {};
  },
};

export const getAttrName: AdminCommand = {
  adminCode: admin,
  async handle(caller, _body, deps) {
    const names = await audience.attrNames(deps.db, caller.app.sdkAppId);
    return {
      AttrNames: Object.fromEntries(names.map((n) => [String(n.slot), n.name])),
      AttrTypes: Object.fromEntries(names.map((n) => [String(n.slot), n.accountType])),
    };
  },
};

export const setAttr: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(SetAttrBody, body);
    const names = new Map((await audience.attrNames(deps.db, caller.app.sdkAppId)).map((n) => [n.name, n]));
    for (const u of b.UserAttrs) {
      for (const [name, value] of Object.entries(u.Attrs)) {
        if (!names.has(name)) throw new TimError(TimCode.invalidAttr, `attribute ${name} is not defined (set_attr_name)`);
        if (byteLength(value) > 50) throw new TimError(TimCode.invalidAttr, `value of ${name} is longer than 50 bytes`);
      }
    }
    const { appId, kinds, errors } = await callAccounts(caller, deps, b.UserAttrs.map((u) => u.To_Account));
    const values: audience.AttrValue[] = [];
    for (const u of b.UserAttrs) {
      const kind = kinds.get(u.To_Account);
      if (kind === undefined) continue;
      const wrong = Object.keys(u.Attrs).find((n) => names.get(n)!.accountType !== kind);
      if (wrong) {
        errors.push({ To_Account: u.To_Account, ErrorCode: TimCode.accountTypeConflict, ErrorInfo: `attribute ${wrong} applies to the other account type` });
        continue;
      }
      for (const [name, value] of Object.entries(u.Attrs)) values.push({ account: u.To_Account, slot: names.get(name)!.slot, value });
    }
    await audience.putAttrs(deps.db, appId, values);
    return withErrors({}, errors);
  },
};

export const getAttr: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(GetAttrBody, body);
    const { appId, kinds, errors } = await callAccounts(caller, deps, b.To_Account);
    const names = new Map((await audience.attrNames(deps.db, appId)).map((n) => [n.slot, n]));
    const values = await audience.attrsOf(deps.db, appId, b.To_Account.filter((a) => kinds.has(a)));
    const userAttrs = [];
    for (const account of new Set(b.To_Account)) {
      if (!kinds.has(account)) continue;
      const attrs: Record<string, string> = {};
      for (const v of values) {
        const n = names.get(v.slot);
        if (v.account === account && n && n.accountType === kinds.get(account)) attrs[n.name] = v.value;
      }
      userAttrs.push({ To_Account: account, Attrs: attrs });
    }
    return withErrors({ UserAttrs: userAttrs }, errors);
  },
};

export const removeAttr: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(RemoveAttrBody, body);
    const names = new Map((await audience.attrNames(deps.db, caller.app.sdkAppId)).map((n) => [n.name, n]));
    for (const u of b.UserAttrs) for (const n of u.Attrs) if (!names.has(n)) throw new TimError(TimCode.invalidAttr, `attribute ${n} is not defined`);
    const { appId, kinds, errors } = await callAccounts(caller, deps, b.UserAttrs.map((u) => u.To_Account));
    const keys = b.UserAttrs.filter((u) => kinds.has(u.To_Account)).flatMap((u) => u.Attrs.map((n) => ({ account: u.To_Account, slot: names.get(n)!.slot })));
    await audience.deleteAttrs(deps.db, appId, keys);
    return withErrors({}, errors);
  },
};
