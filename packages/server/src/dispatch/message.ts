import type { OfflinePushInfo } from './offline-push-info.js';
import { pickLanguage, type LanguageContent } from './locale.js';

/** A push as stored once per task and rendered per device. */
export interface StoredMessage {
  from: string;
  sentAt: number;
  expiresAt: number;
  info: OfflinePushInfo;
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

  frame(seq: number, locale: string | null): string {
    const lang = pickLanguage(locale, this.msg.info.MultiLanguageContent);
    const key = lang?.Language ?? '';
    let body = this.variants.get(key);
    if (body === undefined) {
      body = JSON.stringify(deviceMessage(this.msg, lang));
      this.variants.set(key, body);
    }
    return `{"t":"msg","seq":${seq},"id":${this.idJson},"m":${body}}`;
  }
}
