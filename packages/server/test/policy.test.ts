import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localTime, quietUntil } from '../src/dispatch/policy.js';

const at = (iso: string) => Date.parse(iso);

test('quiet hours: inside and outside a window that spans midnight, in the device time zone', () => {
  const policy = { quietHours: { start: '22:00', end: '08:00' } };
  // 23:30 in Shanghai (UTC+8) is 15:30 UTC: quiet until 08:00 Shanghai = 00:00 UTC next day
  assert.equal(quietUntil(policy, 'Asia/Shanghai', at('2026-11-26T15:30:00Z')), at('2026-11-27T00:00:00Z'));
  // the same instant in London (UTC+0) is 15:30: not quiet
  assert.equal(quietUntil(policy, 'Europe/London', at('2026-11-26T15:30:00Z')), 0);
  // 07:59:30 local: 30 s left; 08:00:00 local: over
  assert.equal(quietUntil(policy, 'UTC', at('2026-11-26T07:59:30Z')), at('2026-11-26T08:00:00Z'));
  assert.equal(quietUntil(policy, 'UTC', at('2026-11-26T08:00:00Z')), 0);
  assert.equal(quietUntil(policy, 'UTC', at('2026-11-26T22:00:00Z')), at('2026-11-27T08:00:00Z'));
});

test('quiet hours: a window within one day, seconds, no window, unknown zones as UTC', () => {
  const policy = { quietHours: { start: '12:00:30', end: '13:00' } };
  assert.equal(quietUntil(policy, null, at('2026-11-26T12:00:29Z')), 0);
  assert.equal(quietUntil(policy, null, at('2026-11-26T12:00:30Z')), at('2026-11-26T13:00:00Z'));
  assert.equal(quietUntil(policy, 'Not/AZone', at('2026-11-26T12:30:00.700Z')), at('2026-11-26T13:00:00Z'));
  assert.equal(quietUntil({}, 'UTC', at('2026-11-26T12:30:00Z')), 0);
  assert.equal(quietUntil({ quietHours: null }, 'UTC', at('2026-11-26T12:30:00Z')), 0);
});

test('local day for the daily cap follows the device time zone', () => {
  assert.equal(localTime(at('2026-11-26T20:00:00Z'), 'Asia/Tokyo').day, '2026-11-27');
  assert.equal(localTime(at('2026-11-26T20:00:00Z'), 'America/New_York').day, '2026-11-26');
  assert.equal(localTime(at('2026-11-26T20:00:00Z'), null).day, '2026-11-26');
});
