import type { Kysely, Transaction } from 'kysely';
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

/** One step of one device, as every callback command tells it. */
export interface DeviceStep {
  eventType: EventType;
  /** Unix seconds. */
  eventTime: number;
  toAccount: string;
  registrationId: string;
  platform: number;
  devicePlatform: number;
  stage: 1 | 2 | 3;
  errCode: number;
  errInfo: string;
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

/** A step of an all-users, tag, single or batch push (reference §5.1, trtc.io/document/67551). */
export function allMemberPushEvent(taskId: string, s: DeviceStep, t: TaskFacts): AllMemberPushEvent {
  return {
    EventType: s.eventType,
    TaskId: taskId,
    DataId: t.dataId,
    TaskTime: t.taskTime,
    EventTime: s.eventTime,
    To_Account: s.toAccount,
    RegistrationID: s.registrationId,
    PushPlatform: s.platform,
    DeviceType: s.devicePlatform,
    PushStage: s.stage,
    ErrCode: s.errCode,
    ErrInfo: s.errInfo,
  };
}

/**
 * A step of a chat message or call push (reference §5.2, trtc.io/document/67552): EventType 1 for
 * a one-to-one message, 2 for a group message; a call invitation goes to one person, so 1, with
 * the task's MsgRandom and acceptance time standing for the message's.
 */
export function offlinePushEvent(pushId: string, s: DeviceStep, t: TaskFacts): OfflinePushEvent {
  const chat = t.chat;
  const group = chat?.type === 'group';
  return {
    EventType: group ? 2 : 1,
    EventTime: s.eventTime,
    From_Account: t.from,
    To_Account: s.toAccount,
    RegistrationID: s.registrationId,
    PushPlatform: s.platform,
    PushStage: s.stage,
    MsgKey: chat && !group ? (chat.msgKey ?? '') : '',
    GroupID: group ? chat.id : '',
    MsgSeq: chat?.msgSeq ?? 0,
    MsgRandom: chat?.msgRandom ?? t.msgRandom,
    MsgTime: chat?.msgTime ?? t.taskTime,
    PushID: pushId,
    ErrCode: s.errCode,
    ErrInfo: s.errInfo,
  };
}
