import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AUDIENCE_LIMITS, AudienceTooComplex, audienceShape, countAudience, devicesInAudience, resolveAudience, type Audience } from '../src/dispatch/audience.js';
import { AccountType } from '../src/store/audience.js';
import { apps, audience as audienceStore, devices, type Store } from '../src/store/index.js';
import { openTestStore, testDatabases } from './helpers/dialects.js';

// Devices d00–d19; d00–d09 bound to users u0–u9. `tu` is a UserID tag (u0–u4), `tr` a RegistrationID tag (d05–d09).
const DEVICES = Array.from({ length: 20 }, (_, i) => `d${String(i).padStart(2, '0')}`);
const userOf = (d: string) => (Number(d.slice(1)) < 10 ? `u${Number(d.slice(1))}` : null);
const TAGGED: Record<string, Set<string>> = { tu: new Set(DEVICES.slice(0, 5)), tr: new Set(DEVICES.slice(5, 10)) };
const tu: Audience = { tag: 'tu' };
const tr: Audience = { tag: 'tr' };

/** The audience's devices, worked out here without SQL. */
function expected(a: Audience): Set<string> {
  if ('all' in a) return new Set(DEVICES);
  if ('tag' in a) return new Set(TAGGED[a.tag]);
  if ('not' in a) {
    const inner = expected(a.not);
    return new Set(DEVICES.filter((d) => !inner.has(d)));
  }
  if ('attr' in a) throw new Error('no attributes here');
  const sets = ('and' in a ? a.and : a.or).map(expected);
  return new Set(DEVICES.filter((d) => ('and' in a ? sets.every((s) => s.has(d)) : sets.some((s) => s.has(d)))));
}

/**
 * As deep as allowed, each level changing the kind of set (UserID / RegistrationID) so that every
 * level adds subqueries, padded with leaves (at most 10 children, as the API allows) to the node limit.
 */
function deepest(depth: number, nodes: number): Audience {
  let a: Audience = tu;
  const levels: Audience[] = [];
  for (let i = 1; i < depth; i++) {
    a = i % 3 === 0 ? { not: a } : i % 3 === 1 ? { and: [tu, a] } : { or: [tr, a] };
    levels.push(a);
  }
  let left = nodes - audienceShape(a).nodes;
  for (const l of levels) {
    const list = 'and' in l ? l.and : 'or' in l ? l.or : null;
    while (list && list.length < 10 && left > 0) {
      list.push(list.length % 2 ? tr : tu);
      left--;
    }
  }
  assert.equal(left, 0);
  return a;
}

/** As many leaves as allowed, each a NOT of a RegistrationID tag: the devices asked about are listed twice per leaf. */
function widest(nodes: number): Audience {
  const groups: Audience[] = [];
  let left = nodes - 1;
  while (left > 0) {
    const g: Audience[] = [];
    left--;
    while (left >= 2 && g.length < 10) {
      g.push({ not: tr });
      left -= 2;
    }
    if (left === 1 && g.length < 10) (g.push(tu), left--);
    groups.push({ or: g });
  }
  return { or: groups };
}

for (const tdb of await testDatabases()) {
  describe(`audience limits (${tdb.name})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    let appId: number;
    before(async () => {
      ({ store, close } = await openTestStore(tdb));
      appId = (await apps.createApp(store.db, 'limits')).sdkAppId;
      for (const d of DEVICES) {
        await devices.insertDevice(store.db, { app_id: appId, registration_id: d, install_id: `i-${d}`, platform: 'node', credential_hash: 'h', fields: {} }, 1);
        const user = userOf(d);
        if (user) await devices.updateDevice(store.db, appId, d, {}, 2, { user_id: user });
      }
      await audienceStore.putTagTypes(store.db, appId, new Map([['tu', AccountType.userId], ['tr', AccountType.registrationId]]));
      await audienceStore.addTags(store.db, appId, [...[...TAGGED.tu!].map((d) => ({ account: userOf(d)!, tag: 'tu' })), ...[...TAGGED.tr!].map((d) => ({ account: d, tag: 'tr' }))]);
    });
    after(() => close());

    // What the live pass asks: 2,500 connected devices at once, the app's among them.
    const asked = [...DEVICES, ...Array.from({ length: 2500 - DEVICES.length }, (_, i) => `x${i}`)];

    for (const [name, a] of [
      ['deepest', deepest(AUDIENCE_LIMITS.depth, AUDIENCE_LIMITS.nodes)],
      ['widest', widest(AUDIENCE_LIMITS.nodes)],
    ] as const) {
      test(`the ${name} audience at the limits compiles and answers right, also for 2,500 devices at once`, async () => {
        assert.deepEqual(audienceShape(a), { depth: name === 'deepest' ? AUDIENCE_LIMITS.depth : 4, nodes: AUDIENCE_LIMITS.nodes });
        const want = expected(a);
        assert.ok(want.size > 0 && want.size < DEVICES.length, 'the audience is neither empty nor everyone');
        assert.equal(await countAudience(store.db, appId, a), want.size);
        assert.deepEqual(await resolveAudience(store.db, appId, a), [...want].sort());
        assert.deepEqual([...(await devicesInAudience(store.db, appId, a, asked))].sort(), [...want].sort());
      });
    }

    test('one level or one node over the limits is refused before any SQL', async () => {
      const deep = deepest(AUDIENCE_LIMITS.depth + 1, AUDIENCE_LIMITS.nodes);
      const wide = widest(AUDIENCE_LIMITS.nodes + 1);
      for (const a of [deep, wide]) {
        await assert.rejects(countAudience(store.db, appId, a), AudienceTooComplex);
        await assert.rejects(resolveAudience(store.db, appId, a), AudienceTooComplex);
        await assert.rejects(devicesInAudience(store.db, appId, a, ['d00']), AudienceTooComplex);
      }
      let probe: Audience = tu;
      for (let i = 0; i < 1000; i++) probe = { not: probe };
      await assert.rejects(countAudience(store.db, appId, probe), /nested 1001 levels deep; at most 12/);
    });
  });
}
