import type { Conversation, NotificationClickEvent } from './types.js';

/** How many delivered messages the SDK remembers for clicks and cancelled calls. */
export const DELIVERED_KEPT = 500;

/** What the SDK remembers of a message it handed to the app. */
export interface Delivered {
  ext?: string | undefined;
  conversation?: Conversation | undefined;
  callId?: string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function conversationOf(type: unknown, id: unknown): Conversation | undefined {
  const convId = str(id);
  return (type === 'c2c' || type === 'group') && convId ? { type, id: convId } : undefined;
}

/**
 * The click of a notification a vendor showed, from the custom data Herald put in the push
 * (docs/vendors.md): the message id, Ext, and for a chat message its conversation, which vendors
 * carry as the strings `convType`/`convId` and Web Push as a `chat` object.
 */
export function clickOf(d: Record<string, unknown>): NotificationClickEvent | undefined {
  const id = str(d.id) ?? str(d.taskId);
  if (!id) return undefined;
  const click: NotificationClickEvent = { id };
  const ext = str(d.ext);
  if (ext !== undefined) click.ext = ext;
  // Web Push carries the conversation as the gateway does (`chat`: {type, id, …})
  const c = d.conversation ?? d.chat;
  const conversation = typeof c === 'object' && c !== null ? conversationOf((c as Record<string, unknown>).type, (c as Record<string, unknown>).id) : conversationOf(d.convType, d.convId);
  if (conversation) click.conversation = conversation;
  return click;
}
