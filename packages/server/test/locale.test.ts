import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickLanguage } from '../src/dispatch/locale.js';
import { FrameRenderer } from '../src/dispatch/message.js';

const entries = [
  { Language: 'zh', Title: '标题', Desc: '内容' },
  { Language: 'zh-Hant', Title: '標題', Desc: '內容' },
  { Language: 'en', Title: 'Title', Desc: 'Text' },
];

test('locale falls back one subtag at a time', () => {
  assert.equal(pickLanguage('zh-Hant-TW', entries)?.Language, 'zh-Hant');
  assert.equal(pickLanguage('zh_Hant_HK', entries)?.Language, 'zh-Hant');
  assert.equal(pickLanguage('zh-CN', entries)?.Language, 'zh');
  assert.equal(pickLanguage('EN-us', entries)?.Language, 'en');
  assert.equal(pickLanguage('fr-FR', entries), undefined);
  assert.equal(pickLanguage(null, entries), undefined);
  assert.equal(pickLanguage('en', undefined), undefined);
});

test('frames carry the text chosen for the device locale', () => {
  const r = new FrameRenderer('t1', { from: 'admin', sentAt: 1, expiresAt: 2, info: { PushFlag: 0, Title: 'Default', Desc: 'D', MultiLanguageContent: entries } });
  const tw = JSON.parse(r.frame(7, 'zh-Hant-TW'));
  assert.deepEqual([tw.t, tw.seq, tw.id, tw.m.title, tw.m.desc, tw.m.lang], ['msg', 7, 't1', '標題', '內容', 'zh-Hant']);
  const fr = JSON.parse(r.frame(8, 'fr'));
  assert.deepEqual([fr.m.title, fr.m.lang], ['Default', undefined]);
});
