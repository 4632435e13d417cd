import type { OfflinePushInfo } from './offline-push-info.js';
import { pickLanguage, type LanguageContent } from './locale.js';

/**
 * The conversation a chat message belongs to, as its recipient sees it (reference §5.2): for a
 * one-to-one message the conversation is the sender ('c2c', id = From_Account), for a group message
 * the group ('group', id = GroupID).
 */
export interface ChatMeta {
  type: 'c2c' | 'group';
  id: string;
  /** Shown as the title of a one-to-one notification. */
  senderNick?: string;
  /** Shown as the title of a group notification. */
  groupName?: string;
  /** Tencent's message identity: MsgKey (one-to-one), MsgSeq, MsgRandom and MsgTime (unix seconds). */
  msgKey?: string;
  msgSeq?: number;
  msgRandom: number;
  msgTime: number;
}

/** A call invitation from an RTC backend. */
export interface CallMeta {
  callId: string;
  roomId?: string;
  media: 'audio' | 'video';
  caller: string;
  callerNick?: string;
  /** Seconds the invitation rings for; the push expires with it. */
  timeoutSeconds: number;
}

/** The key that groups one conversation's notifications: APNs thread-id, Android notification group or tag. */
export function conversationKey(chat: Pick<ChatMeta, 'type' | 'id'>): string {
  return `${chat.type}_${chat.id}`;
}

/** The conversation a key names; undefined for a key conversationKey never makes. */
export function parseConversationKey(key: string): Pick<ChatMeta, 'type' | 'id'> | undefined {
  const cut = key.indexOf('_');
  const type = key.slice(0, cut);
  if (cut < 0 || (type !== 'c2c' && type !== 'group')) return undefined;
  return { type, id: key.slice(cut + 1) };
}

/** A push as stored once per task and rendered per device. */
export interface StoredMessage {
  from: string;
  sentAt: number;
  expiresAt: number;
  info: OfflinePushInfo;
  /** Set on a chat message push. */
  chat?: ChatMeta;
  /** Set on a call invitation. */
  call?: CallMeta;
}

/** The `m` object of a `msg` frame (docs/protocol.md §3.2). */
export interface DeviceMessage {
  title: string;
  desc: string;
  ext?: string;
  lang?: string;
  from: string;
  sentAt: number;
  expiresAt: number;
  info: OfflinePushInfo;
  chat?: ChatMeta;
  call?: CallMeta;
}

/** The message in the language chosen for a device (undefined: the push's default Title/Desc). */
export function deviceMessage(msg: StoredMessage, lang: LanguageContent | undefined): DeviceMessage {
  const out: DeviceMessage = {
    title: lang?.Title ?? msg.info.Title ?? '',
    desc: lang?.Desc ?? msg.info.Desc ?? '',
    from: msg.from,
    sentAt: msg.sentAt,
    expiresAt: msg.expiresAt,
    info: msg.info,
  };
  if (msg.info.Ext !== undefined) out.ext = msg.info.Ext;
  if (lang) out.lang = lang.Language;
  if (msg.chat) out.chat = msg.chat;
  if (msg.call) out.call = msg.call;
  return out;
}

/**
 * Renders `msg` frames for one message. The message body is serialized once per language variant
 * and spliced into each device's frame, so a push to many devices costs one JSON.stringify per
 * variant, not per device.
 */
export class FrameRenderer {
  private variants = new Map<string, string>();
  private readonly idJson: string;

  constructor(private taskId: string, private msg: StoredMessage) {
    this.idJson = JSON.stringify(taskId);
  }

  /** `badge`: the user's unread count after this message (chat pushes), beside the message. */
  frame(seq: number, locale: string | null, badge?: number): string {
    const lang = pickLanguage(locale, this.msg.info.MultiLanguageContent);
    const key = lang?.Language ?? '';
    let body = this.variants.get(key);
    if (body === undefined) {
      body = JSON.stringify(deviceMessage(this.msg, lang));
      this.variants.set(key, body);
    }
    const b = badge === undefined ? '' : `,"badge":${badge}`;
    return `{"t":"msg","seq":${seq},"id":${this.idJson}${b},"m":${body}}`;
  }
}
