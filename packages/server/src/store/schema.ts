import type { Generated } from 'kysely';

/**
 * Row types of every table, as Kysely sees them. Times are epoch milliseconds; booleans are 0/1
 * integers and JSON is text so that SQLite and PostgreSQL store the same values.
 */
export interface AppsTable {
  sdk_app_id: number;
  name: string;
  secret_key: string;
  app_key: string;
  /** JSON array of the identifiers allowed to call the admin API. */
  admin_identifiers: string;
  /** JSON object of per-app settings. */
  settings: string;
  created_at: number;
}

export interface DevicesTable {
  app_id: number;
  registration_id: string;
  install_id: string;
  user_id: string | null;
  platform: string;
  vendor: string | null;
  token: string | null;
  /** APNs: the PushKit VoIP token beside the alert token in `token`. */
  voip_token: string | null;
  certificate_id: number | null;
  locale: string | null;
  time_zone: string | null;
  app_version: string | null;
  sdk_version: string | null;
  device_model: string | null;
  os_version: string | null;
  notification_permission: string | null;
  /** sha256 of the device credential; the credential itself is never stored. */
  credential_hash: string;
  /** Unused since seqs come from the app's counter (seq_counters); kept for older stores. */
  last_seq: number;
  created_at: number;
  updated_at: number;
  last_seen_at: number | null;
}

export interface TasksTable {
  app_id: number;
  task_id: string;
  kind: string;
  status: string;
  msg_random: number;
  from_account: string;
  data_id: string | null;
  push_flag: number;
  /** JSON: the message as devices receive it (see dispatch/message.ts). */
  message: string;
  /** JSON: the request as accepted. */
  request: string;
  target_count: number;
  created_at: number;
  expires_at: number;
  /** JSON audience expression of an all-users or tag push (dispatch/audience.ts); null for batch. */
  audience: string | null;
  /** Deliveries per second for this task (PushSpeed); null = as fast as it goes. */
  push_speed: number | null;
  /** JSON: the app's quiet hours and daily cap as they were when the task was accepted. */
  policy: string | null;
  /** Inbox rows written for this task (fan-out and catch-up). */
  materialized: Generated<number>;
  /** Targeted devices decided against (online-only and offline, quiet hours, daily cap, recalled). */
  dropped: Generated<number>;
  revoked_at: number | null;
  finished_at: number | null;
  /** Single and batch pushes: the process routing the push, and until when (see tasks.claimUnrouted). */
  lease_owner: string | null;
  lease_until: number | null;
  /** Failed attempts at resolving, sending or catching up this push. */
  attempts: Generated<number>;
  /** Why the last attempt failed (and, once `failed`, why the push was given up on). */
  fail_reason: string | null;
  /** After a failed attempt: not worked on again before this time. */
  retry_at: number | null;
}

export interface MsgRandomsTable {
  app_id: number;
  kind: string;
  msg_random: number;
  task_id: string;
  created_at: number;
}

export interface InboxTable {
  app_id: number;
  registration_id: string;
  seq: number;
  task_id: string;
  online_only: number;
  created_at: number;
  expires_at: number;
  acked_at: number | null;
  /** Not before this time (quiet hours); 0 = at once. */
  deliver_after: Generated<number>;
  /** 1 when the message was recalled after this device acked it and the device still has to be told. */
  recall_pending: Generated<number>;
  vendor_sent: Generated<number>;
  /** First hand-over to a session (the gateway channel's "sent"); null = not yet. */
  sent_at: number | null;
}

export interface LossesTable {
  app_id: number;
  task_id: string;
  registration_id: string;
  user_id: string | null;
  stage: string;
  code: number;
  reason: string;
  created_at: number;
}

export interface ClicksTable {
  app_id: number;
  task_id: string;
  registration_id: string;
  created_at: number;
}

export interface AttrNamesTable {
  app_id: number;
  slot: number;
  name: string;
  /** 0 = UserID, 1 = RegistrationID (Tencent's AttrTypes). */
  account_type: number;
}

export interface AccountAttrsTable {
  app_id: number;
  slot: number;
  account: string;
  value: string;
}

export interface TagTypesTable {
  app_id: number;
  tag: string;
  account_type: number;
}

export interface AccountTagsTable {
  app_id: number;
  account: string;
  tag: string;
}

export interface TaskShardsTable {
  app_id: number;
  task_id: string;
  shard: number;
  lo: string;
  hi: string | null;
  /** Last registration_id done in this shard; null = none yet. */
  cursor: string | null;
  status: string;
  lease_owner: string | null;
  lease_until: number | null;
  processed: number;
}

export interface LossCountsTable {
  app_id: number;
  task_id: string;
  code: number;
  stage: string;
  reason: string;
  count: number;
}

export interface VendorCountsTable {
  app_id: number;
  task_id: string;
  vendor: string;
  outcome: 'sent' | 'reached';
  count: number;
}

export interface DailyPushesTable {
  app_id: number;
  account: string;
  day: string;
  task_id: string;
}

export interface SchedTasksTable {
  app_id: number;
  sched_id: number;
  type: string;
  sched_at: number;
  content: string;
  title: string;
  description: string;
  status: string;
  dispatch_success: number;
  dispatch_err: string;
  push_task_id: string;
  lease_until: number | null;
  created_at: number;
}

export interface SeqCountersTable {
  app_id: number;
  /** The last inbox seq handed out in this app. */
  last_seq: number;
}

export interface AppCountersTable {
  app_id: number;
  /** What is counted (app-counters.ts). */
  name: string;
  /** The last value handed out. */
  value: number;
}

export interface CertificatesTable {
  app_id: number;
  cert_id: number;
  vendor: string;
  name: string;
  /** JSON: the vendor's credentials (channels/certificates.ts), secrets included. */
  config: string;
  created_at: number;
  updated_at: number;
  /** When its vendor refused the certificate itself, and it was stopped (certificate-health.ts); null = in use. */
  stopped_at: number | null;
  /** The vendor's code and answer that stopped it. */
  stop_code: number | null;
  stop_reason: string | null;
  /** When the vendor first took a send through these credentials; null = never yet. */
  proven_at: number | null;
}

export interface StatCountersTable {
  app_id: number;
  /** 0 = all-users, tag and single pushes (all_member_*), 1 = chat message pushes (normal_push_*). */
  family: number;
  task_id: string;
  /** Epoch hour: floor(ms / 3,600,000). */
  hour: number;
  /** 1 = offline (vendor channel), 2 = online (Herald's gateway), as Tencent's EventType. */
  event_type: number;
  /** PushPlatform (stats/platforms.ts). */
  platform: number;
  /** sendable, sent, reached, clicked, loss_ready (ready-to-send loss), loss_post (post-send loss). */
  metric: string;
  /** Loss reason code; 0 for the other metrics. */
  code: number;
  reason: string;
  count: number;
}

export interface TraceEventsTable {
  app_id: number;
  task_id: string;
  registration_id: string;
  at: number;
  /** What happened (stats/trace-steps.ts). */
  step: string;
  event_type: number;
  platform: number;
  code: number;
  info: string;
}

export interface CallbackOutboxTable {
  id: string;
  app_id: number;
  /** CallbackCommand, e.g. Push.AllMemberPush. */
  command: string;
  /** JSON: the events, packed (callbacks/compact.ts), or stored whole as {"Events":[…]}. */
  body: string;
  event_count: number;
  /** Events of the row's first requests already delivered (a row is posted as requests of at most 100). */
  posted: Generated<number>;
  /** pending, or dead once it can no longer be delivered. */
  status: string;
  attempts: Generated<number>;
  next_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
}

/** A user's mute of one conversation (conversationKey in dispatch/message.ts). */
export interface ConversationMutesTable {
  app_id: number;
  conversation: string;
  user_id: string;
  /** Muted until this time; null = until unmuted. */
  muted_until: number | null;
  updated_at: number;
}

/** A user's daily do-not-disturb window, [start, end) in minutes of the local day; start > end spans midnight. */
export interface DndHoursTable {
  app_id: number;
  user_id: string;
  start_minute: number;
  end_minute: number;
  /** IANA zone; null = the time zone of the user's most recently updated device, else UTC. */
  time_zone: string | null;
  updated_at: number;
}

/** A user's unread count, shown as the app icon badge. */
export interface BadgesTable {
  app_id: number;
  user_id: string;
  count: number;
  updated_at: number;
}

export interface PushTemplatesTable {
  app_id: number;
  /** The n of the template id `{SDKAppID}-{n}`. */
  template_id: number;
  name: string;
  title: string;
  description: string;
  /** JSON: [{Language, Title, Desc}], or null. */
  contents: string | null;
  ext: string | null;
  created_at: number;
  updated_at: number;
  /** Set once deleted; the row stays so the number is not reused. */
  deleted_at: number | null;
}

export interface Database {
  apps: AppsTable;
  devices: DevicesTable;
  tasks: TasksTable;
  msg_randoms: MsgRandomsTable;
  inbox: InboxTable;
  losses: LossesTable;
  clicks: ClicksTable;
  attr_names: AttrNamesTable;
  account_attrs: AccountAttrsTable;
  tag_types: TagTypesTable;
  account_tags: AccountTagsTable;
  task_shards: TaskShardsTable;
  loss_counts: LossCountsTable;
  daily_pushes: DailyPushesTable;
  sched_tasks: SchedTasksTable;
  seq_counters: SeqCountersTable;
  app_counters: AppCountersTable;
  certificates: CertificatesTable;
  vendor_counts: VendorCountsTable;
  stat_counters: StatCountersTable;
  trace_events: TraceEventsTable;
  callback_outbox: CallbackOutboxTable;
  conversation_mutes: ConversationMutesTable;
  dnd_hours: DndHoursTable;
  badges: BadgesTable;
  push_templates: PushTemplatesTable;
}
