import { z } from 'zod';

/**
 * OfflinePushInfo, field by field as Tencent documents it (reference §3.2–3.4, trtc.io/document/77715).
 * Known fields are type-checked; unknown fields are kept, so newer Tencent fields pass through to
 * devices instead of being refused.
 */

const utf8Max = (max: number) => z.string().refine((s) => Buffer.byteLength(s, 'utf8') <= max, { message: `at most ${max} bytes` });
const flag = z.union([z.literal(0), z.literal(1)]);

export const AndroidInfo = z.looseObject({
  Sound: z.string().optional(),
  PushStyle: flag.optional(),
  XiaoMiChannelID: z.string().optional(),
  OPPOChannelID: z.string().optional(),
  OPPOCategory: z.string().optional(),
  OPPOPrivateMsgTemplateId: z.string().optional(),
  OPPOPrivateTitleParameters: z.record(z.string(), z.string()).optional(),
  OPPOPrivateContentParameters: z.record(z.string(), z.string()).optional(),
  OPPONotifyLevel: z.union([z.literal(1), z.literal(2), z.literal(16)]).optional(),
  VIVOClassification: flag.optional(),
  VIVOCategory: z.string().optional(),
  VIVONotifyType: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).optional(),
  HuaWeiImportance: z.enum(['LOW', 'NORMAL']).optional(),
  HuaWeiCategory: z.string().optional(),
  HuaWeiImage: z.string().optional(),
  HonorImage: z.string().optional(),
  HuaWeiChannelID: z.string().optional(),
  HonorImportance: z.enum(['LOW', 'NORMAL']).optional(),
  GoogleImage: z.string().optional(),
  GooglePriority: z.enum(['normal', 'high']).optional(),
  GoogleChannelID: z.string().optional(),
  MeiZuNoticeMsgType: flag.optional(),
  ExtAsHuaweiIntentParam: flag.optional(),
});

export const ApnsInfo = z.looseObject({
  BadgeMode: flag.optional(),
  Title: z.string().optional(),
  SubTitle: z.string().optional(),
  Image: z.string().optional(),
  MutableContent: flag.optional(),
  Sound: z.string().optional(),
  InterruptionLevel: z.enum(['active', 'critical', 'passive', 'time-sensitive']).optional(),
  ContentAvailable: flag.optional(),
  IsVoipPush: flag.optional(),
  LiveActivity: z
    .looseObject({
      LaId: utf8Max(64),
      Event: z.enum(['update', 'end']),
      ContentState: z.record(z.string(), z.unknown()).optional(),
      DismissalDate: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

export const HarmonyInfo = z.looseObject({
  Title: z.string().optional(),
  Category: z.string().optional(),
  Image: z.string().optional(),
  Sound: z.string().optional(),
  SoundDuration: z.number().int().min(1).max(60).optional(),
});

export const LanguageContent = z.looseObject({
  Language: z.string().min(1).max(35),
  Title: z.string().optional(),
  Desc: z.string().optional(),
});

export const OfflinePushInfo = z.looseObject({
  PushFlag: flag.default(0),
  Title: z.string().optional(),
  Desc: z.string().optional(),
  Ext: z.string().optional(),
  MultiLanguageContent: z.array(LanguageContent).max(100).optional(),
  AndroidInfo: AndroidInfo.optional(),
  ApnsInfo: ApnsInfo.optional(),
  HarmonyInfo: HarmonyInfo.optional(),
  // Tencent: BadgeAddNum 1–99, BadgeSetNum 0–999 (APNs), BadgeSetNum wins when both are set.
  BadgeAddNum: z.number().int().min(1).max(99).optional(),
  BadgeSetNum: z.number().int().min(0).max(999).optional(),
  PushTemplateId: z.string().max(64).optional(),
  PushTemplateParam: z.record(z.string(), z.string()).optional(),
});
export type OfflinePushInfo = z.infer<typeof OfflinePushInfo>;
