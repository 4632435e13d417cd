import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packEvents, unpackBody } from '../src/callbacks/index.js';

const event = (i: number, stage: number) => ({ CallbackCommand: 'Push.AllMemberPush', EventType: 1, TaskId: 't1', DataId: '', TaskTime: 1764152400, EventTime: 1764152401, To_Account: `user-${i}`, RegistrationID: `r_${i}`, PushPlatform: 2, DeviceType: 2, PushStage: stage, ErrCode: stage === 1 ? 0 : 410, ErrInfo: stage === 1 ? '' : 'gone' });

test('a stored row gives back the events exactly, fields in their order, and takes a fraction of the bytes', () => {
  const events = Array.from({ length: 100 }, (_, i) => event(i, i % 10 === 0 ? 2 : 1));
  const stored = packEvents(events);
  const body = unpackBody(stored);
  assert.equal(body, JSON.stringify({ Events: events }));
  assert.ok(stored.length * 3 < body.length, `${stored.length} bytes stored for ${body.length}`);
});

test('one event, and events that share nothing, come back the same', () => {
  assert.equal(unpackBody(packEvents([event(1, 1)])), JSON.stringify({ Events: [event(1, 1)] }));
  const mixed = [{ a: 1, b: 'x' }, { a: 2, b: 'y' }];
  assert.equal(unpackBody(packEvents(mixed)), JSON.stringify({ Events: mixed }));
});

test('a row stored whole (Tencent body) is posted as it is', () => {
  const whole = JSON.stringify({ Events: [event(3, 1)] });
  assert.equal(unpackBody(whole), whole);
});
