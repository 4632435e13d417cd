import { getAttr, getAttrName, removeAttr, setAttr, setAttrName } from './attrs.js';
import { batchCommand } from './batch.js';
import { callPushCommand, cancelCallCommand } from './call-push.js';
import { chatPushCommand } from './chat-push.js';
import { addTag, clearAllTags, getTag, removeTag } from './tags.js';
import type { AdminCommand } from './context.js';
import { checkCertificate, deleteCertificate, getCertificates, setCertificate } from './certificates.js';
import { pushCommand } from './push.js';
import { deletePushTemplate, getPushTemplates, setPushTemplate } from './push-templates.js';
import { revokeCommand } from './revoke.js';
import { addSchedTask, deleteSchedTask, getSchedTask, listSchedTask, modifySchedTask } from './sched.js';
import { getPushSettings, setPushSettings } from './settings.js';
import { getCallback, setCallback } from './callback.js';
import { getPushTask } from './task-info.js';
import { getBadge, getConversationMute, setBadge, setConversationMute } from './conversations.js';
import { getPushRecords } from './push-records.js';
import { allMemberPushTrace, normalPushTrace } from './push-trace.js';
import { allMemberPushLoss, allMemberPushStatistics, getPushFunnel, normalPushLoss, normalPushStatistics } from './statistics.js';

/** Every `v4/timpush/{command}` Herald answers, by Tencent's command name. */
export const adminCommands: Readonly<Record<string, AdminCommand>> = {
  push: pushCommand,
  batch: batchCommand,
  revoke: revokeCommand,
  add_sched_task: addSchedTask,
  modify_sched_task: modifySchedTask,
  delete_sched_task: deleteSchedTask,
  get_sched_task: getSchedTask,
  list_sched_task: listSchedTask,
  all_member_push_trace: allMemberPushTrace,
  all_member_push_statistics: allMemberPushStatistics,
  all_member_push_loss: allMemberPushLoss,
  normal_push_statistics: normalPushStatistics,
  normal_push_loss: normalPushLoss,
  normal_push_trace: normalPushTrace,
  // Herald's own
  chat_push: chatPushCommand,
  call_push: callPushCommand,
  cancel_call: cancelCallCommand,
  get_push_task: getPushTask,
  get_push_records: getPushRecords,
  get_push_funnel: getPushFunnel,
  set_push_settings: setPushSettings,
  get_push_settings: getPushSettings,
  set_callback: setCallback,
  get_callback: getCallback,
  set_certificate: setCertificate,
  get_certificates: getCertificates,
  delete_certificate: deleteCertificate,
  check_certificate: checkCertificate,
  set_push_template: setPushTemplate,
  get_push_templates: getPushTemplates,
  delete_push_template: deletePushTemplate,
  set_attr_name: setAttrName,
  get_attr_name: getAttrName,
  set_attr: setAttr,
  get_attr: getAttr,
  remove_attr: removeAttr,
  add_tag: addTag,
  get_tag: getTag,
  remove_tag: removeTag,
  clear_all_tags: clearAllTags,
  set_conversation_mute: setConversationMute,
  get_conversation_mute: getConversationMute,
  set_badge: setBadge,
  get_badge: getBadge,
};
