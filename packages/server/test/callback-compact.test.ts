import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packEvents, packGroups, requestBodies, unpackBody } from '../src/callbacks/index.js';

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

test('events that share every field come back as many as they were', () => {
  const same = [event(1, 1), event(1, 1), event(1, 1)];
  assert.equal(unpackBody(packEvents(same)), JSON.stringify({ Events: same }));
});

test('a row stored with a row of values per event (before columns) is posted as the Tencent body', () => {
  const a = event(1, 1);
  const b = event(2, 1);
  const stored = JSON.stringify({ o: Object.keys(a), c: { ...a, To_Account: undefined, RegistrationID: undefined }, v: [['user-1', 'r_1'], ['user-2', 'r_2']] });
  assert.equal(unpackBody(stored), JSON.stringify({ Events: [a, b] }));
});

test('a row of more than 100 events is posted as Tencent bodies of at most 100, in order', () => {
  const events = Array.from({ length: 250 }, (_, i) => event(i, (i % 3) + 1));
  const bodies = requestBodies(packEvents(events), 100);
  assert.deepEqual(bodies, [events.slice(0, 100), events.slice(100, 200), events.slice(200)].map((Events) => JSON.stringify({ Events })));
  assert.deepEqual(requestBodies(JSON.stringify({ Events: events.slice(0, 150) }), 100), [events.slice(0, 100), events.slice(100, 150)].map((Events) => JSON.stringify({ Events })), 'a row stored whole too');
});

test('a row stored whole (Tencent body) is posted as it is', () => {
  const whole = JSON.stringify({ Events: [event(3, 1)] });
  assert.equal(unpackBody(whole), whole);
});

test('events given as groups are packed into requests of at most 100, exactly as the events themselves', () => {
  const order = Object.keys(event(0, 1));
  const columns = ['To_Account', 'RegistrationID', 'PushPlatform', 'DeviceType'];
  // three steps of one push: 150 sent, 30 reached, 40 lost with a code; the second and third share a request
  const steps = [
    { n: 150, stage: 1, first: 0 },
    { n: 30, stage: 2, first: 150 },
    { n: 40, stage: 2, first: 180 },
  ];
  const naive = steps.flatMap((s) => Array.from({ length: s.n }, (_, i) => ({ ...event(s.first + i, s.stage), ...(s.first === 180 ? { ErrCode: 410, ErrInfo: 'gone' } : { ErrCode: 0, ErrInfo: '' }) })));
  const groups = steps.map((s) => {
    const sample = naive[s.first]!;
    const shared = Object.fromEntries(Object.entries(sample).filter(([k]) => !columns.includes(k)));
    const events = naive.slice(s.first, s.first + s.n);
    return { order, shared, columns, values: columns.map((c) => events.map((e) => e[c as keyof typeof e])), count: s.n };
  });
  const requests = packGroups(groups, 100);
  assert.deepEqual(
    requests.map((r) => r.count),
    [100, 100, 20],
  );
  const posted = requests.flatMap((r) => (JSON.parse(unpackBody(r.body)) as { Events: unknown[] }).Events);
  assert.deepEqual(posted, naive);
  assert.equal(unpackBody(requests[0]!.body), JSON.stringify({ Events: naive.slice(0, 100) }), 'fields in their order');
  assert.deepEqual(packGroups([], 100), []);
});

test('the devices of a step, on one platform or on several, come out as the events Tencent lists, field for field', async () => {
  const { allMemberPushGroup, offlinePushGroup } = await import('../src/stats/callback-events.js');
  const step = { eventType: 1 as const, eventTime: 1764152401, stage: 1 as const, errCode: -2, errInfo: 'no token' };
  const facts = { dataId: 'd1', taskTime: 1764152400, from: 'admin', msgRandom: 7 };
  const devices = (platforms: number[]) => ({ toAccount: platforms.map((_, i) => (i === 1 ? '' : `u${i}`)), registrationId: platforms.map((_, i) => `r${i}`), platform: platforms.every((p) => p === platforms[0]) ? platforms[0]! : platforms, devicePlatform: platforms });
  for (const platforms of [[3, 3, 3], [3, 6, 1]]) {
    const posted = packGroups([allMemberPushGroup('t1', step, facts, devices(platforms))], 100).flatMap((r) => (JSON.parse(unpackBody(r.body)) as { Events: unknown[] }).Events);
    assert.deepEqual(
      posted,
      platforms.map((p, i) => ({ CallbackCommand: 'Push.AllMemberPush', EventType: 1, TaskId: 't1', DataId: 'd1', TaskTime: 1764152400, EventTime: 1764152401, To_Account: i === 1 ? '' : `u${i}`, RegistrationID: `r${i}`, PushPlatform: p, DeviceType: p, PushStage: 1, ErrCode: -2, ErrInfo: 'no token' })),
    );
    const chat = JSON.parse(unpackBody(packGroups([offlinePushGroup('chat_1', step, facts, devices(platforms))], 100)[0]!.body)) as { Events: Record<string, unknown>[] };
    assert.deepEqual(
      chat.Events.map((e) => [e.To_Account, e.RegistrationID, e.PushPlatform, 'DeviceType' in e]),
      platforms.map((p, i) => [i === 1 ? '' : `u${i}`, `r${i}`, p, false]),
    );
  }
});
