import { z } from 'zod';
import type { ChatMeta } from './message.js';
import type { OfflinePushInfo } from './offline-push-info.js';

/**
 * A chat message in Tencent's MsgBody form (reference §3.1, tencentcloud.com/document/product/1047/33527):
 * an array of elements, each `{MsgType, MsgContent}`. Herald reads only what a notification needs;
 * the rest of each element is kept as given.
 */
export const MsgElement = z.looseObject({
  MsgType: z.enum(['TIMTextElem', 'TIMLocationElem', 'TIMFaceElem', 'TIMCustomElem', 'TIMSoundElem', 'TIMImageElem', 'TIMFileElem', 'TIMVideoFileElem']),
  MsgContent: z.looseObject({
    Text: z.string().optional(),
    Desc: z.string().optional(),
    Ext: z.string().optional(),
    Sound: z.string().optional(),
    Data: z.string().optional(),
  }),
});
export type MsgElement = z.infer<typeof MsgElement>;

export const MsgBody = z
  .array(MsgElement)
  .min(1)
  .max(20)
  .refine((b) => b.filter((e) => e.MsgType === 'TIMCustomElem').length <= 1, { message: 'at most one TIMCustomElem per message' });

/** What a notification shows for elements that carry no text of their own. */
const PREVIEW: Record<MsgElement['MsgType'], string> = {
  TIMTextElem: '',
  TIMCustomElem: '',
  TIMLocationElem: '[Location]',
  TIMFaceElem: '[Sticker]',
  TIMSoundElem: '[Voice]',
  TIMImageElem: '[Image]',
  TIMFileElem: '[File]',
  TIMVideoFileElem: '[Video]',
};

/**
 * The notification text of a message, Tencent's order (reference §3.1): OfflinePushInfo.Desc,
 * else the custom element's Desc, else the text elements joined, else a short preview of the
 * first other element. A message whose only element is a custom one without Desc has no text:
 * Tencent sends no offline push for it.
 */
export function notificationText(body: readonly MsgElement[], info: Pick<OfflinePushInfo, 'Desc'>): string {
  if (info.Desc) return info.Desc;
  const custom = body.find((e) => e.MsgType === 'TIMCustomElem');
  if (custom?.MsgContent.Desc) return custom.MsgContent.Desc;
  const text = body
    .filter((e) => e.MsgType === 'TIMTextElem')
    .map((e) => e.MsgContent.Text ?? '')
    .join('');
  if (text) return text;
  return body.map((e) => PREVIEW[e.MsgType]).find((p) => p !== '') ?? '';
}

/**
 * The OfflinePushInfo a chat message is delivered with: the title is the sender's nickname (one to
 * one) or the group's name unless the backend set one; the text as `notificationText`; the custom
 * element's Ext and Sound fill Ext and the ringtone when the backend set none; badges count (ApnsInfo
 * BadgeMode 0 is Tencent's chat default, reference §3.4).
 */
export function chatPushInfo(info: OfflinePushInfo, body: readonly MsgElement[], chat: ChatMeta, from: string): OfflinePushInfo {
  const custom = body.find((e) => e.MsgType === 'TIMCustomElem')?.MsgContent;
  const title = info.Title ?? (chat.type === 'group' ? (chat.groupName ?? chat.id) : (chat.senderNick ?? from));
  const desc = notificationText(body, info);
  const out: OfflinePushInfo = { ...info, Title: title, Desc: desc };
  if (out.Ext === undefined && custom?.Ext !== undefined) out.Ext = custom.Ext;
  const apns = { ...(info.ApnsInfo ?? {}) };
  if (apns.BadgeMode === undefined) apns.BadgeMode = 0;
  if (custom?.Sound && apns.Sound === undefined) apns.Sound = custom.Sound;
  out.ApnsInfo = apns;
  if (custom?.Sound && info.AndroidInfo?.Sound === undefined) out.AndroidInfo = { ...(info.AndroidInfo ?? {}), Sound: custom.Sound.replace(/\.[^.]*$/, '') };
  return out;
}

/** Tencent sends no offline push for a message without text (reference §3.1): such a push goes online only. */
export function onlineOnlyWithoutText(info: OfflinePushInfo): OfflinePushInfo {
  return !info.Desc && !info.MultiLanguageContent?.some((l) => l.Desc) ? { ...info, PushFlag: 1 } : info;
}
