import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inDndWindow } from '../src/dispatch/conversation-filter.js';

const at = (iso: string) => Date.parse(iso);
const hours = (start: string, end: string) => ({ startMinute: Number(start.slice(0, 2)) * 60 + Number(start.slice(3)), endMinute: Number(end.slice(0, 2)) * 60 + Number(end.slice(3)) });

test('do-not-disturb: a window that wraps past midnight holds both ends of the night, start inclusive, end exclusive', () => {
  const night = hours('22:30', '07:00');
  assert.equal(inDndWindow(night, null, at('2026-11-26T22:29:59Z')), false);
  assert.equal(inDndWindow(night, null, at('2026-11-26T22:30:00Z')), true);
  assert.equal(inDndWindow(night, null, at('2026-11-26T23:59:59Z')), true);
  assert.equal(inDndWindow(night, null, at('2026-11-27T00:00:00Z')), true);
  assert.equal(inDndWindow(night, null, at('2026-11-27T06:59:59Z')), true);
  assert.equal(inDndWindow(night, null, at('2026-11-27T07:00:00Z')), false);
  assert.equal(inDndWindow(night, null, at('2026-11-27T12:00:00Z')), false);
});

test('do-not-disturb: a window within one day', () => {
  const lunch = hours('12:00', '13:30');
  assert.equal(inDndWindow(lunch, 'UTC', at('2026-11-26T11:59:00Z')), false);
  assert.equal(inDndWindow(lunch, 'UTC', at('2026-11-26T12:00:00Z')), true);
  assert.equal(inDndWindow(lunch, 'UTC', at('2026-11-26T13:29:59Z')), true);
  assert.equal(inDndWindow(lunch, 'UTC', at('2026-11-26T13:30:00Z')), false);
  assert.equal(inDndWindow(hours('09:00', '09:00'), 'UTC', at('2026-11-26T09:00:00Z')), false, 'an empty window holds nothing');
});

test('do-not-disturb: read in the time zone given, unknown zones as UTC', () => {
  const night = hours('22:00', '08:00');
  const instant = at('2026-11-26T15:30:00Z'); // 23:30 in Shanghai, 10:30 in New York, 15:30 in UTC
  assert.equal(inDndWindow(night, 'Asia/Shanghai', instant), true);
  assert.equal(inDndWindow(night, 'America/New_York', instant), false);
  assert.equal(inDndWindow(night, null, instant), false);
  assert.equal(inDndWindow(night, 'Not/AZone', at('2026-11-26T23:00:00Z')), true);
  // half-hour zone: 02:00 UTC is 07:30 in Kolkata (inside), 03:00 UTC is 08:30 (outside)
  assert.equal(inDndWindow(night, 'Asia/Kolkata', at('2026-11-26T02:00:00Z')), true);
  assert.equal(inDndWindow(night, 'Asia/Kolkata', at('2026-11-26T03:00:00Z')), false);
  // daylight saving: 21:30 UTC is 22:30 in Berlin in winter (CET) but 23:30 in summer (CEST)
  assert.equal(inDndWindow(hours('22:00', '23:00'), 'Europe/Berlin', at('2026-01-15T21:30:00Z')), true);
  assert.equal(inDndWindow(hours('22:00', '23:00'), 'Europe/Berlin', at('2026-07-15T21:30:00Z')), false);
});
