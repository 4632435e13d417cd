import type { Random } from './prng.js';

/** A JSON value as a body is made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };

/**
 * Text that JSON.stringify cannot make from a value, put in by markers: a marker string (or key)
 * in the value is replaced in the text by what it stands for. Deep nesting is written as text
 * because JSON.stringify itself overflows the stack on it.
 */
const MARK = '\u0001fuzz:';
const deepMark = (depth: number) => `${MARK}deep:${depth}`;
const DUPLICATE_KEY = `${MARK}duplicate`;

/** The body as JSON text, markers replaced. */
export function toText(body: Json): string {
  let text = JSON.stringify(body);
  if (!text.includes('\\u0001fuzz:')) return text;
  // {"<DUPLICATE_KEY>":["Key",value]} member → "Key":value, beside the object's own "Key"
  const key = JSON.stringify(DUPLICATE_KEY);
  for (let i = text.indexOf(key); i >= 0; i = text.indexOf(key)) {
    const start = i + key.length + 1;
    const end = closingBracket(text, start);
    const [k, v] = JSON.parse(text.slice(start, end + 1)) as [string, Json];
    text = text.slice(0, i) + `${JSON.stringify(k)}:${JSON.stringify(v)}` + text.slice(end + 1);
  }
  // last, so that no JSON.stringify sees the nesting
  return text.replace(/"\\u0001fuzz:deep:(\d+)"/g, (_m, d: string) => '['.repeat(Number(d)) + ']'.repeat(Number(d)));
}

/** Where the array opened at `start` closes, skipping strings. */
function closingBracket(text: string, start: number): number {
  let level = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '[' || c === '{') level++;
    else if (c === ']' || c === '}') {
      level--;
      if (level === 0) return i;
    }
  }
  throw new Error('unbalanced marker');
}

interface Slot {
  parent: Container;
  key: string | number;
}

/** Every place in `root` a value sits, found without recursion. */
function slotsOf(root: Json): Slot[] {
  const out: Slot[] = [];
  const stack: Json[] = [root];
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    if (v === null || typeof v !== 'object') continue;
    const entries: Array<[string | number, Json]> = Array.isArray(v) ? v.map((c, i) => [i, c]) : Object.entries(v);
    for (const [key, child] of entries) {
      out.push({ parent: v, key });
      stack.push(child);
    }
  }
  return out;
}

function containersOf(root: Json): Container[] {
  const all = slotsOf(root).map((s) => get(s)).filter((v): v is Container => v !== null && typeof v === 'object');
  return root !== null && typeof root === 'object' ? [root, ...all] : all;
}

const get = (s: Slot): Json => (Array.isArray(s.parent) ? s.parent[s.key as number]! : s.parent[s.key as string]!);
function set(s: Slot, v: Json): void {
  if (Array.isArray(s.parent)) s.parent[s.key as number] = v;
  else s.parent[s.key as string] = v;
}

const HUGE = [1e308, -1e308, 2 ** 53 + 2, 2 ** 63, 1e21, 4294967296, 4294967295, 2 ** 31, 5e-324, Number.MAX_SAFE_INTEGER, 1e15, 86400 * 365 * 1e4];
const NEGATIVE = [-1, -0, -(2 ** 31), -1.5, -1e15, -86400];
const NANISH = ['NaN', 'Infinity', '-Infinity', '1e999', '0x1F', ' 12', '', 'null', 'true', '١٢٣', '1_000', '12abc', '-0', '+1'];
const ODD_TEXT = ['😀', 'é', '\u202eevil', 'a\u0301', '%00', "' OR 1=1 --", '%_\\', '{{x}}', '{{', '\\u0000', '<script>', ' ', '\t\n', 'Ω'.repeat(60), '中文'.repeat(30), '\ufeff', '\uffff', '\ud83d\ude00'.repeat(20)];
const UNSTORABLE = ['\u0000', '\ud800', '\udfff', '\udc00\ud800', 'a\u0000', '\u0000\u0000'];
const KEYS = ['x', 'Extra', '__proto__', 'constructor', 'prototype', 'To_Account', 'MsgRandom', 'TaskId', 'Condition', 'OfflinePushInfo', '', ' ', 'toString'];

function randomScalar(rng: Random): Json {
  switch (rng.int(6)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, 1, -1, 1.5, ...HUGE, ...NEGATIVE]);
    case 3:
      return rng.pick([...NANISH, ...ODD_TEXT, 'alice']);
    case 4:
      return [];
    default:
      return {};
  }
}

/** A value of another JSON type than `v`. */
function otherType(rng: Random, v: Json): Json {
  for (;;) {
    const w = randomScalar(rng);
    const kind = (x: Json) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);
    if (kind(w) !== kind(v)) return w;
  }
}

function insertAt(rng: Random, s: string, piece: string): string {
  const i = rng.int(s.length + 1);
  return s.slice(0, i) + piece + s.slice(i);
}

type Mutation = (rng: Random, root: Json) => Json;

function onSlot(pick: (s: Slot, v: Json) => boolean, change: (rng: Random, v: Json, s: Slot) => Json): Mutation {
  return (rng, root) => {
    const all = slotsOf(root);
    const preferred = all.filter((s) => pick(s, get(s)));
    const list = preferred.length > 0 ? preferred : all;
    if (list.length === 0) return root;
    const s = rng.pick(list);
    set(s, change(rng, get(s), s));
    return root;
  };
}

const any = () => true;
const isNumber = (_s: Slot, v: Json) => typeof v === 'number';
const isString = (_s: Slot, v: Json) => typeof v === 'string';
const isArray = (_s: Slot, v: Json) => Array.isArray(v);

/** The mutations, by the name a report shows. */
export const MUTATIONS: Record<string, Mutation> = {
  wrongType: onSlot(any, (rng, v) => otherType(rng, v)),
  missing: (rng, root) => {
    const objects = containersOf(root).filter((c) => !Array.isArray(c) && Object.keys(c).length > 0) as Array<Record<string, Json>>;
    if (objects.length === 0) return root;
    const o = rng.pick(objects);
    delete o[rng.pick(Object.keys(o))];
    return root;
  },
  extra: (rng, root) => {
    const objects = containersOf(root).filter((c) => !Array.isArray(c)) as Array<Record<string, Json>>;
    if (objects.length === 0) return root;
    // defineProperty: a "__proto__" key must become an own member, as JSON.parse would make it
    Object.defineProperty(rng.pick(objects), rng.pick(KEYS), { value: randomScalar(rng), enumerable: true, writable: true, configurable: true });
    return root;
  },
  hugeNumber: onSlot(isNumber, (rng) => rng.pick(HUGE)),
  negative: onSlot(isNumber, (rng) => rng.pick(NEGATIVE)),
  fraction: onSlot(isNumber, (rng, v) => (typeof v === 'number' ? v + 0.5 : 0.5)),
  nanish: onSlot(isNumber, (rng) => rng.pick(NANISH)),
  unstorableText: onSlot(isString, (rng, v) => insertAt(rng, typeof v === 'string' ? v : '', rng.pick(UNSTORABLE))),
  unstorableKey: (rng, root) => {
    const objects = containersOf(root).filter((c) => !Array.isArray(c) && Object.keys(c).length > 0) as Array<Record<string, Json>>;
    if (objects.length === 0) return root;
    const o = rng.pick(objects);
    const k = rng.pick(Object.keys(o));
    o[insertAt(rng, k, rng.pick(UNSTORABLE))] = o[k]!;
    delete o[k];
    return root;
  },
  oddText: onSlot(isString, (rng) => rng.pick(ODD_TEXT)),
  longText: onSlot(isString, (rng) => rng.pick(['x', '😀', '中', 'é']).repeat(rng.pick([51, 65, 101, 129, 257, 1025, 2049, 10_241, 70_000, 300_000]))),
  deep: onSlot(any, (rng) => deepMark(rng.pick([20, 63, 64, 65, 100, 1000, 5000, 10_000, 100_000]))),
  duplicateKey: (rng, root) => {
    const objects = containersOf(root).filter((c) => !Array.isArray(c) && Object.keys(c).length > 0) as Array<Record<string, Json>>;
    if (objects.length === 0) return root;
    const o = rng.pick(objects);
    const keys = Object.keys(o).filter((key) => key !== DUPLICATE_KEY);
    if (keys.length === 0) return root;
    const k = rng.pick(keys);
    const pair: Json = [k, rng.chance(0.5) ? randomScalar(rng) : structuredClone(o[k]!)];
    // first: the object's own member (written later) wins; last: the duplicate wins
    if (rng.chance(0.5)) o[DUPLICATE_KEY] = pair;
    else {
      const rest = { ...o };
      for (const key of Object.keys(o)) delete o[key];
      Object.assign(o, { [DUPLICATE_KEY]: pair }, rest);
    }
    return root;
  },
  longArray: onSlot(isArray, (rng, v) => {
    // of short scalars only: copies of a container or a long text would multiply the body
    const first = Array.isArray(v) ? v[0] : undefined;
    const short = first === null || typeof first === 'number' || typeof first === 'boolean' || (typeof first === 'string' && first.length <= 64);
    const item: Json = short ? first : 'alice';
    return Array.from({ length: rng.pick([11, 51, 101, 501, 1001, 10_000]) }, (_, i) => (typeof item === 'string' && rng.chance(0.5) ? `${item}${i}` : item));
  }),
  wrapOrUnwrap: onSlot(any, (_rng, v) => (Array.isArray(v) ? (v[0] ?? null) : [v])),
  nullify: onSlot(any, () => null),
  empty: onSlot(any, (_rng, v) => (Array.isArray(v) ? [] : typeof v === 'string' ? '' : {})),
};

/** Whole bodies that are not a JSON object, or not JSON. */
export const NOT_A_BODY = ['', ' ', '{', '{"a":', 'nul', '[1,2]', '"text"', '1', 'null', 'true', '{"a":1}}', '\ufeff{}', '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', '\u0000', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"\\u0000":1}'];

/** `body` after `count` mutations picked by `rng`, with their names. */
export function mutate(rng: Random, body: Json, count: number): { body: Json; names: string[] } {
  const all = Object.keys(MUTATIONS);
  const names = Array.from({ length: count }, () => rng.pick(all));
  // markers go in last, so that no later mutation takes one apart
  const rank = (n: string) => (n === 'duplicateKey' ? 2 : n === 'deep' ? 1 : 0);
  names.sort((a, b) => rank(a) - rank(b));
  let out = structuredClone(body);
  for (const name of names) out = MUTATIONS[name]!(rng, out);
  return { body: out, names };
}
