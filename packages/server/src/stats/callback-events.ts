import type { Kysely, Transaction } from 'kysely';
import type { EventGroup } from '../callbacks/compact.js';
import type { AllMemberPushEvent, OfflinePushEvent } from '../callbacks/events.js';
import type { CallMeta, ChatMeta, StoredMessage } from '../dispatch/message.js';
import type { Database } from '../store/index.js';
import type { EventType } from './platforms.js';

type Db = Transaction<Database> | Kysely<Database>;

/** What a push's callback events say of the push itself, read once from its task row. */
export interface TaskFacts {
  dataId: string;
  /** When the push was accepted, Unix seconds. */
  taskTime: number;
  from: string;
  msgRandom: number;
  chat?: ChatMeta;
  call?: CallMeta;
}

/** One step of a push for a group of devices, as every callback command tells it. */
export interface GroupStep {
  eventType: EventType;
  /** Unix seconds. */
  eventTime: number;
  stage: 1 | 2 | 3;
  errCode: number;
  errInfo: string;
}

/**
 * The devices of one step, as columns: UserID ('' when none), RegistrationID, the step's platform
 * and the device's vendor platform; a platform is one number when every device has it.
 */
export interface StepDevices {
  toAccount: readonly string[];
  registrationId: readonly string[];
  platform: number | readonly number[];
  devicePlatform: number | readonly number[];
}

/** A group of events: the fields given as columns vary per event, in `order`'s order; the rest are shared. */
function eventGroup(order: readonly string[], shared: Record<string, unknown>, columns: Record<string, unknown>, count: number): EventGroup {
  const varying = order.filter((k) => Array.isArray(columns[k]));
  for (const k of order) if (k in columns && !Array.isArray(columns[k])) shared[k] = columns[k];
  return { order, shared, columns: varying, values: varying.map((k) => columns[k] as readonly unknown[]), count };
}

/** The message a chat or call task stored; undefined when the row holds none that parses. */
function storedMessage(json: string): StoredMessage | undefined {
  try {
    return JSON.parse(json) as StoredMessage;
  } catch {
    return undefined;
  }
}

/** Task facts kept per process, so a batch of events reads each task's row once and later batches not at all. */
export class TaskFactsCache {
  private facts = new Map<string, TaskFacts>();

  async get(tx: Db, appId: number, taskId: string): Promise<TaskFacts> {
    const key = `${appId}:${taskId}`;
    let f = this.facts.get(key);
    if (!f) {
      const t = await tx.selectFrom('tasks').select(['data_id', 'created_at', 'from_account', 'msg_random', 'kind', 'message']).where('app_id', '=', appId).where('task_id', '=', taskId).executeTakeFirst();
      f = { dataId: t?.data_id ?? '', taskTime: t ? Math.floor(Number(t.created_at) / 1000) : 0, from: t?.from_account ?? '', msgRandom: t ? Number(t.msg_random) : 0 };
      if (t && (t.kind === 'chat' || t.kind === 'call')) {
        const m = storedMessage(t.message);
        if (m?.chat) f.chat = m.chat;
        if (m?.call) f.call = m.call;
      }
      if (this.facts.size > 10_000) this.facts.clear();
      this.facts.set(key, f);
    }
    return f;
  }
}

const ALL_MEMBER_ORDER = [
  'CallbackCommand',
  'EventType',
  'TaskId',
  'DataId',
  'TaskTime',
  'EventTime',
  'To_Account',
  'RegistrationID',
  'PushPlatform',
  'DeviceType',
  'PushStage',
  'ErrCode',
  'ErrInfo',
] as const satisfies readonly ('CallbackCommand' | keyof AllMemberPushEvent)[];

/** A step of an all-users, tag, single or batch push for these devices (reference §5.1, trtc.io/document/67551). */
export function allMemberPushGroup(taskId: string, s: GroupStep, t: TaskFacts, d: StepDevices): EventGroup {
  return eventGroup(
    ALL_MEMBER_ORDER,
    {
      CallbackCommand: 'Push.AllMemberPush',
      EventType: s.eventType,
      TaskId: taskId,
      DataId: t.dataId,
      TaskTime: t.taskTime,
      EventTime: s.eventTime,
      PushStage: s.stage,
      ErrCode: s.errCode,
      ErrInfo: s.errInfo,
    } satisfies Omit<AllMemberPushEvent, 'To_Account' | 'RegistrationID' | 'PushPlatform' | 'DeviceType'> & { CallbackCommand: string },
    { To_Account: d.toAccount, RegistrationID: d.registrationId, PushPlatform: d.platform, DeviceType: d.devicePlatform },
    d.registrationId.length,
  );
}

const OFFLINE_PUSH_ORDER = [
  'CallbackCommand',
  'EventType',
  'EventTime',
  'From_Account',
  'To_Account',
  'RegistrationID',
  'PushPlatform',
  'PushStage',
  'MsgKey',
  'GroupID',
  'MsgSeq',
  'MsgRandom',
  'MsgTime',
  'PushID',
  'ErrCode',
  'ErrInfo',
] as const satisfies readonly ('CallbackCommand' | keyof OfflinePushEvent)[];

/**
 * A step of a chat message or call push for these devices (reference §5.2, trtc.io/document/67552):
 * EventType 1 for a one-to-one message, 2 for a group message; a call invitation goes to one
 * person, so 1, with the task's MsgRandom and acceptance time standing for the message's.
 */
export function offlinePushGroup(pushId: string, s: GroupStep, t: TaskFacts, d: StepDevices): EventGroup {
  const chat = t.chat;
  const group = chat?.type === 'group';
  return eventGroup(
    OFFLINE_PUSH_ORDER,
    {
      CallbackCommand: 'Push.OfflinePush',
      EventType: group ? 2 : 1,
      EventTime: s.eventTime,
      From_Account: t.from,
      PushStage: s.stage,
      MsgKey: chat && !group ? (chat.msgKey ?? '') : '',
      GroupID: group ? chat.id : '',
      MsgSeq: chat?.msgSeq ?? 0,
      MsgRandom: chat?.msgRandom ?? t.msgRandom,
      MsgTime: chat?.msgTime ?? t.taskTime,
      PushID: pushId,
      ErrCode: s.errCode,
      ErrInfo: s.errInfo,
    } satisfies Omit<OfflinePushEvent, 'To_Account' | 'RegistrationID' | 'PushPlatform'> & { CallbackCommand: string },
    // the device's vendor platform is not a field of this event
    { To_Account: d.toAccount, RegistrationID: d.registrationId, PushPlatform: d.platform },
    d.registrationId.length,
  );
}
