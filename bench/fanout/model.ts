/**
 * The seeded population, as pure functions of a device's index: its ids, credential, locale, tags
 * and attributes. The seeder writes exactly this; client processes derive the credential of device
 * i from it; the orchestrator computes, from the same functions and without the database, how many
 * devices a condition must match, so a wrong AudienceCount from Herald fails the benchmark.
 * Bump MODEL_VERSION whenever anything here changes: it is part of the seed cache key.
 */
export const MODEL_VERSION = 1;

/** Tags t0 … t49; tag t<k> is held by (k + 1) % of users (t0 1 %, t49 50 %; 12.75 tags per user on average). */
export const TAG_COUNT = 50;
export const tagName = (k: number) => `t${k}`;
export const tagDensity = (k: number) => (k + 1) / 100;

/** Attribute slots (all of UserID type, AttrTypes 0) and their values. */
export const ATTRS = [
  { slot: 0, name: 'city', values: Array.from({ length: 20 }, (_, j) => `c${j}`) },
  { slot: 1, name: 'sex', values: ['female', 'male'] },
  { slot: 2, name: 'level', values: Array.from({ length: 10 }, (_, j) => String(j + 1)) },
] as const;

/** Locales with their share of devices (per thousand). */
const LOCALES: readonly [string, number][] = [
  ['en', 300],
  ['en-GB', 50],
  ['zh-Hans', 200],
  ['zh-Hant-TW', 80],
  ['fr', 70],
  ['de', 60],
  ['ja', 60],
  ['es', 60],
  ['pt-BR', 50],
  ['ko', 40],
  ['ru', 30],
];

// Index width: registration ids sort in index order ("r_0000000" < "r_0000001" …).
const pad = (i: number) => String(i).padStart(7, '0');
export const registrationId = (i: number) => `r_${pad(i)}`;
export const installId = (i: number) => `i_${pad(i)}`;
export const userId = (i: number) => `u_${i}`;
/** The device's credential (Herald stores only its sha256). */
export const credential = (i: number) => `bench-credential-${i}`;

/** A 32-bit mix of (i, salt) (murmur3's finalizer), as a number in [0, 1). */
export function unit(i: number, salt: number): number {
  let h = (Math.imul(i, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

const SALT_LOCALE = 1000;
const SALT_PLATFORM = 1001;
const SALT_ATTR = 1100; // + slot

export function locale(i: number): string {
  let u = unit(i, SALT_LOCALE) * 1000;
  for (const [tag, share] of LOCALES) {
    if (u < share) return tag;
    u -= share;
  }
  return 'en';
}

export const platform = (i: number) => (unit(i, SALT_PLATFORM) < 0.7 ? 'android' : 'ios');

export const hasTag = (i: number, k: number) => unit(i, k) < tagDensity(k);

/** Value of attribute `slot` for user i. */
export function attr(i: number, slot: number): string {
  const a = ATTRS[slot]!;
  return a.values[Math.floor(unit(i, SALT_ATTR + slot) * a.values.length)]!;
}

/** A push Condition as Tencent spells it, and the test it stands for on one device index. */
export interface AudienceCase {
  label: string;
  condition: Record<string, unknown>;
  matches(i: number): boolean;
}

const tagIndex = (tag: string) => Number(tag.slice(1));
const attrSlot = (name: string) => ATTRS.find((a) => a.name === name)!.slot;

function tagsAnd(tags: string[]): AudienceCase {
  const ks = tags.map(tagIndex);
  return { label: `TagsAnd ${tags.join(',')}`, condition: { TagsAnd: tags }, matches: (i) => ks.every((k) => hasTag(i, k)) };
}

function tagsOr(tags: string[]): AudienceCase {
  const ks = tags.map(tagIndex);
  return { label: `TagsOr ${tags.join(',')}`, condition: { TagsOr: tags }, matches: (i) => ks.some((k) => hasTag(i, k)) };
}

function attrs(op: 'AttrsAnd' | 'AttrsOr', values: Record<string, string>): AudienceCase {
  const tests = Object.entries(values).map(([name, v]) => [attrSlot(name), v] as const);
  const label = `${op} ${Object.entries(values).map(([n, v]) => `${n}=${v}`).join(',')}`;
  return {
    label,
    condition: { [op]: values },
    matches: op === 'AttrsAnd' ? (i) => tests.every(([s, v]) => attr(i, s) === v) : (i) => tests.some(([s, v]) => attr(i, s) === v),
  };
}

/**
 * The conditions timed with DryRun. Expected sizes per 1M devices: TagsAnd ≈ 0.21·0.31·0.41 = 2.7 %
 * (≈ 26,700), TagsOr ≈ 1 − 0.99·0.97·0.95 = 8.8 % (≈ 88,000), AttrsAnd 1/20 · 1/2 = 2.5 % (≈ 25,000),
 * AttrsOr 1 − 19/20 · 9/10 = 14.5 % (≈ 145,000).
 */
export const AUDIENCE_CASES: readonly AudienceCase[] = [
  tagsAnd(['t20', 't30', 't40']),
  tagsOr(['t0', 't2', 't4']),
  attrs('AttrsAnd', { city: 'c3', sex: 'female' }),
  attrs('AttrsOr', { city: 'c7', level: '5' }),
];

/** How many of devices 0 … n−1 each case matches (every device has its own user). */
export function expectedCounts(n: number, cases: readonly AudienceCase[] = AUDIENCE_CASES): number[] {
  const counts = cases.map(() => 0);
  for (let i = 0; i < n; i++) for (let c = 0; c < cases.length; c++) if (cases[c]!.matches(i)) counts[c]!++;
  return counts;
}

/** The connected devices: `connected` indexes spread evenly over 0 … devices−1 (online devices are not the oldest ones). */
export function connectedIndexes(devices: number, connected: number): number[] {
  return Array.from({ length: connected }, (_, j) => Math.floor((j * devices) / connected));
}
