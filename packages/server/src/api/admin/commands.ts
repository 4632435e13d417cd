import { getAttr, getAttrName, removeAttr, setAttr, setAttrName } from './attrs.js';
import { batchCommand } from './batch.js';
import { addTag, clearAllTags, getTag, removeTag } from './tags.js';
import type { AdminCommand } from './context.js';

/** Every `v4/timpush/{command}` Herald answers, by Tencent's command name. */
export const adminCommands: Readonly<Record<string, AdminCommand>> = {
  batch: batchCommand,
  set_attr_name: setAttrName,
  get_attr_name: getAttrName,
  set_attr: setAttr,
  get_attr: getAttr,
  remove_attr: removeAttr,
  add_tag: addTag,
  get_tag: getTag,
  remove_tag: removeTag,
  clear_all_tags: clearAllTags,
};
