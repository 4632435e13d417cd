import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TimCode, TimError } from '../src/api/admin/envelope.js';
import { OfflinePushInfo } from '../src/dispatch/offline-push-info.js';
import { applyPushTemplate, fillPushTemplate, parseTemplateId, placeholderProblem, type PushTemplate } from '../src/dispatch/push-templates.js';
import { apps, openStore, pushTemplates, type Store } from '../src/store/index.js';
import { testDatabases } from './helpers/dialects.js';

const info = (fields: Record<string, unknown>) => OfflinePushInfo.parse({ PushTemplateId: '1400000000-1', ...fields });

const timError = (code: number, pattern: RegExp) => (err: unknown) => err instanceof TimError && err.code === code && pattern.test(err.message);

test('placeholders are filled from PushTemplateParam; the template fields go, the push keeps the rest', () => {
  const t: PushTemplate = { Title: 'Order {{orderId}} shipped', Desc: 'Hi {{name}}, order {{orderId}} is on its way' };
  const out = fillPushTemplate(t, info({ PushTemplateParam: { orderId: '42', name: 'Ann' }, BadgeAddNum: 1, AndroidInfo: { Sound: 'ding' } }));
  assert.equal(out.Title, 'Order 42 shipped');
  assert.equal(out.Desc, 'Hi Ann, order 42 is on its way');
  assert.equal(out.BadgeAddNum, 1);
  assert.deepEqual(out.AndroidInfo, { Sound: 'ding' });
  assert.equal(out.PushFlag, 0);
  assert.equal('PushTemplateId' in out, false);
  assert.equal('PushTemplateParam' in out, false);
});

test('a value containing {{x}} is not expanded again', () => {
  const out = fillPushTemplate({ Title: '{{a}}', Desc: '{{b}} and {{a}}' }, info({ PushTemplateParam: { a: '{{b}}', b: '{{timTitle}}' }, Title: 'T' }));
  assert.equal(out.Title, '{{b}}');
  assert.equal(out.Desc, '{{timTitle}} and {{b}}');
});

test('reserved variables: timTitle and timDesc are the push’s own, timSenderNick and timGroupName given by the caller', () => {
  const t: PushTemplate = { Title: '{{timSenderNick}} in {{timGroupName}}', Desc: '[{{timTitle}}] {{timDesc}}' };
  const out = fillPushTemplate(t, info({ Title: 'raw title', Desc: 'raw text' }), { timSenderNick: 'Bo', timGroupName: 'Hikers' });
  assert.equal(out.Title, 'Bo in Hikers');
  assert.equal(out.Desc, '[raw title] raw text');
});

test('a placeholder with no value is 90093 naming every missing variable; none is filled half', () => {
  const t: PushTemplate = { Title: '{{a}} {{b}}', Desc: '{{timSenderNick}} {{c}}' };
  assert.throws(() => fillPushTemplate(t, info({ PushTemplateParam: { a: 'x' } })), timError(TimCode.templateParam, /\{\{b\}\}.*\{\{timSenderNick\}\}.*\{\{c\}\}/));
  assert.throws(() => fillPushTemplate({ Title: '{{timTitle}}', Desc: 'd' }, info({})), timError(TimCode.templateParam, /timTitle.*reserved/));
  // an empty value is a value
  assert.equal(fillPushTemplate({ Title: '<{{a}}>', Desc: 'd' }, info({ PushTemplateParam: { a: '' } })).Title, '<>');
});

test('PushTemplateParam cannot set a reserved variable', () => {
  assert.throws(() => fillPushTemplate({ Title: '{{timTitle}}', Desc: 'd' }, info({ Title: 't', PushTemplateParam: { timTitle: 'forged' } })), timError(TimCode.templateParam, /reserved variable timTitle/));
});

test('multi-language: the template’s entries, filled, replace the push’s; without any, the push’s stay', () => {
  const t: PushTemplate = { Title: 'Sale {{pct}}%', Desc: 'now', MultiLanguageContent: [{ Language: 'zh', Title: '打{{pct}}折', Desc: '{{timDesc}}' }, { Language: 'de', Title: 'Rabatt {{pct}}%' }] };
  const out = fillPushTemplate(t, info({ Desc: 'today', PushTemplateParam: { pct: '20' }, MultiLanguageContent: [{ Language: 'fr', Title: 'Solde' }] }));
  assert.deepEqual(out.MultiLanguageContent, [{ Language: 'zh', Title: '打20折', Desc: 'today' }, { Language: 'de', Title: 'Rabatt 20%' }]);
  const plain = fillPushTemplate({ Title: 'x', Desc: 'y' }, info({ MultiLanguageContent: [{ Language: 'fr', Title: 'Solde' }] }));
  assert.deepEqual(plain.MultiLanguageContent, [{ Language: 'fr', Title: 'Solde' }]);
  assert.throws(() => fillPushTemplate({ Title: 'x', Desc: 'y', MultiLanguageContent: [{ Language: 'zh', Desc: '{{missing}}' }] }, info({})), timError(TimCode.templateParam, /missing/));
});

test('Ext: the template’s only when the push has none; JSON stays JSON whatever the values hold', () => {
  const t: PushTemplate = { Title: 't', Desc: 'd', Ext: '{"page":"order","id":"{{id}}","tags":["{{tag}}"]}' };
  const out = fillPushTemplate(t, info({ PushTemplateParam: { id: 'a"b\\c', tag: '{{id}}' } }));
  assert.deepEqual(JSON.parse(out.Ext!), { page: 'order', id: 'a"b\\c', tags: ['{{id}}'] });
  assert.equal(fillPushTemplate(t, info({ Ext: 'mine', PushTemplateParam: {} })).Ext, 'mine', 'the push’s Ext wins, and its template Ext needs no values then');
  assert.equal(fillPushTemplate({ ...t, Ext: 'app://order/{{id}}' }, info({ PushTemplateParam: { id: '7' } })).Ext, 'app://order/7');
  assert.equal(fillPushTemplate({ ...t, Ext: '{"id":{{id}}}' }, info({ PushTemplateParam: { id: '7' } })).Ext, '{"id":7}', 'not JSON until filled: filled as text');
});

test('placeholder syntax and template ids', () => {
  assert.equal(placeholderProblem('Hi {{name}}, {{ORDER_1}} {single} }'), undefined);
  assert.match(placeholderProblem('Hi {{name}')!, /malformed placeholder/);
  assert.match(placeholderProblem('Hi {{ name }}')!, /malformed/);
  assert.match(placeholderProblem('{{1abc}}')!, /malformed/);
  assert.match(placeholderProblem('a }} b')!, /malformed/);
  assert.match(placeholderProblem(`{{${'x'.repeat(65)}}}`)!, /malformed/);
  assert.deepEqual(parseTemplateId('1400000000-12'), { appId: 1400000000, n: 12 });
  for (const bad of ['1400000000-0', '1400000000-01', '1400000000', 'abc-1', '1400000000-1-2', '-1']) assert.equal(parseTemplateId(bad), undefined, bad);
});

for (const tdb of await testDatabases()) {
  describe(`push template store (${tdb.name})`, () => {
    let store: Store;
    let created: Awaited<ReturnType<typeof tdb.create>>;
    let appId: number;
    let otherApp: number;
    before(async () => {
      created = await tdb.create();
      store = await openStore(created);
      appId = (await apps.createApp(store.db, 'templates')).sdkAppId;
      otherApp = (await apps.createApp(store.db, 'neighbour')).sdkAppId;
    });
    after(async () => {
      await store.close();
      await created.drop();
    });
    const fields = (title: string) => ({ name: 'n', title, description: 'd', contents: null, ext: null });

    test('numbers count up per app and are never reused after a delete; other apps see nothing', async () => {
      assert.equal(await pushTemplates.insertPushTemplate(store.db, appId, fields('a'), 1), 1);
      assert.equal(await pushTemplates.insertPushTemplate(store.db, appId, fields('b'), 1), 2);
      assert.equal(await pushTemplates.insertPushTemplate(store.db, otherApp, fields('x'), 1), 1);
      assert.equal(await pushTemplates.deletePushTemplate(store.db, appId, 2, 2), true);
      assert.equal(await pushTemplates.deletePushTemplate(store.db, appId, 2, 3), false, 'gone already');
      assert.equal(await pushTemplates.insertPushTemplate(store.db, appId, fields('c'), 4), 3);
      assert.deepEqual((await pushTemplates.listPushTemplates(store.db, appId)).map((r) => [Number(r.template_id), r.title]), [[1, 'a'], [3, 'c']]);
      assert.equal(await pushTemplates.updatePushTemplate(store.db, appId, 2, fields('z'), 5), false, 'a deleted template cannot be updated');
      assert.deepEqual((await pushTemplates.listPushTemplates(store.db, otherApp)).map((r) => r.title), ['x']);
    });

    test('applyPushTemplate: fills from the store, sees an update at once, refuses other apps’ and unknown ids', async () => {
      const n = await pushTemplates.insertPushTemplate(store.db, appId, fields('v1 {{x}}'), 1);
      const push = OfflinePushInfo.parse({ PushTemplateId: `${appId}-${n}`, PushTemplateParam: { x: '!' } });
      const filled = await applyPushTemplate(store.db, appId, push);
      assert.equal(filled.Title, 'v1 !');
      assert.equal(await applyPushTemplate(store.db, appId, filled), filled, 'a filled info names no template: applying again changes nothing');
      await pushTemplates.updatePushTemplate(store.db, appId, n, fields('v2 {{x}}'), 2);
      assert.equal((await applyPushTemplate(store.db, appId, push)).Title, 'v2 !', 'the brief cache is dropped on update');
      await assert.rejects(applyPushTemplate(store.db, otherApp, push), timError(TimCode.noSuchTemplate, /no push template/));
      await assert.rejects(applyPushTemplate(store.db, otherApp, { ...push, PushTemplateId: `${otherApp}-${n}` }), timError(TimCode.noSuchTemplate, /no push template/), 'the neighbour has no such number');
      await pushTemplates.deletePushTemplate(store.db, appId, n, 3);
      await assert.rejects(applyPushTemplate(store.db, appId, push), timError(TimCode.noSuchTemplate, /no push template/), 'deleted');
      const none = OfflinePushInfo.parse({ Title: 'plain' });
      assert.equal(await applyPushTemplate(store.db, appId, none), none, 'no PushTemplateId: the same object');
    });
  });
}
