import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

/**
 * Schema migrations, in code so the single binary carries them. Column types are chosen to mean the
 * same on SQLite and PostgreSQL: bigint for ids, times and counters, text for strings and JSON.
 */
const migrations: Record<string, Migration> = {
  '0001_core': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('apps')
        .addColumn('sdk_app_id', 'bigint', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_key', 'text', (c) => c.notNull())
        .addColumn('app_key', 'text', (c) => c.notNull().unique())
        .addColumn('admin_identifiers', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('devices')
        .addColumn('app_id', 'bigint', (c) => c.notNull())
        .addColumn('registration_id', 'text', (c) => c.notNull())
        .addColumn('install_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('vendor', 'text')
        .addColumn('token', 'text')
        .addColumn('certificate_id', 'bigint')
        .addColumn('locale', 'text')
        .addColumn('time_zone', 'text')
        .addColumn('app_version', 'text')
        .addColumn('sdk_version', 'text')
        .addColumn('device_model', 'text')
        .addColumn('os_version', 'text')
        .addColumn('notification_permission', 'text')
        .addColumn('credential_hash', 'text', (c) => c.notNull())
        .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint')
        .addPrimaryKeyConstraint('devices_pk', ['app_id', 'registration_id'])
        .addUniqueConstraint('devices_install_uq', ['app_id', 'install_id'])
        .execute();
      await db.schema.createIndex('devices_user_idx').on('devices').columns(['app_id', 'user_id']).execute();

      await db.schema
        .createTable('tasks')
        .addColumn('app_id', 'bigint', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('msg_random', 'bigint', (c) => c.notNull())
        .addColumn('from_account', 'text', (c) => c.notNull())
        .addColumn('data_id', 'text')
        .addColumn('push_flag', 'bigint', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('target_count', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tasks_pk', ['app_id', 'task_id'])
        .execute();
      await db.schema.createIndex('tasks_status_idx').on('tasks').columns(['status', 'created_at']).execute();

      await db.schema
        .createTable('msg_randoms')
        .addColumn('app_id', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('msg_random', 'bigint', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('msg_randoms_pk', ['app_id', 'kind', 'msg_random'])
        .execute();

      await db.schema
        .createTable('inbox')
        .addColumn('app_id', 'bigint', (c) => c.notNull())
        .addColumn('registration_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('online_only', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('acked_at', 'bigint')
        .addPrimaryKeyConstraint('inbox_pk', ['app_id', 'registration_id', 'seq'])
        .execute();
      await db.schema.createIndex('inbox_task_idx').on('inbox').columns(['app_id', 'task_id']).execute();
      await db.schema.createIndex('inbox_expiry_idx').on('inbox').columns(['expires_at']).execute();

      await db.schema
        .createTable('losses')
        .addColumn('app_id', 'bigint', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('registration_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('code', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('losses_task_idx').on('losses').columns(['app_id', 'task_id']).execute();

      await db.schema
        .createTable('clicks')
        .addColumn('app_id', 'bigint', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('registration_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('clicks_pk', ['app_id', 'task_id', 'registration_id'])
        .execute();
    },
  },
};

migrations['0002_audience'] = {
  async up(db: Kysely<unknown>) {
    // Attribute slots "0"–"9" per app (Tencent: at most 10); values are keyed by slot so a rename keeps them.
    await db.schema
      .createTable('attr_names')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('slot', 'bigint', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('account_type', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('attr_names_pk', ['app_id', 'slot'])
      .addUniqueConstraint('attr_names_name_uq', ['app_id', 'name'])
      .execute();
    await db.schema
      .createTable('account_attrs')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('slot', 'bigint', (c) => c.notNull())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('account_attrs_pk', ['app_id', 'account', 'slot'])
      .execute();
    await db.schema.createIndex('account_attrs_value_idx').on('account_attrs').columns(['app_id', 'slot', 'value']).execute();
    // A tag applies to one account type (UserID 0 or RegistrationID 1), fixed by its first use.
    await db.schema
      .createTable('tag_types')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('account_type', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('tag_types_pk', ['app_id', 'tag'])
      .execute();
    await db.schema
      .createTable('account_tags')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('account_tags_pk', ['app_id', 'account', 'tag'])
      .execute();
    await db.schema.createIndex('account_tags_tag_idx').on('account_tags').columns(['app_id', 'tag']).execute();
  },
};

migrations['0003_fanout'] = {
  async up(db: Kysely<unknown>) {
    // All-users and tag pushes: the audience is stored as a condition, resolved in shards at send time.
    await db.schema.alterTable('tasks').addColumn('audience', 'text').execute();
    await db.schema.alterTable('tasks').addColumn('push_speed', 'bigint').execute();
    await db.schema.alterTable('tasks').addColumn('policy', 'text').execute();
    await db.schema.alterTable('tasks').addColumn('materialized', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('tasks').addColumn('dropped', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('tasks').addColumn('revoked_at', 'bigint').execute();
    await db.schema.alterTable('tasks').addColumn('finished_at', 'bigint').execute();
    // catch-up on connect: an app's live all-users and tag pushes, past the batch pushes that share the table
    await db.schema.createIndex('tasks_live_idx').on('tasks').columns(['app_id', 'status', 'expires_at']).execute();

    await db.schema
      .createTable('task_shards')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('shard', 'bigint', (c) => c.notNull())
      // registration_id range [lo, hi); hi null = unbounded
      .addColumn('lo', 'text', (c) => c.notNull())
      .addColumn('hi', 'text')
      .addColumn('cursor', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('processed', 'bigint', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('task_shards_pk', ['app_id', 'task_id', 'shard'])
      .execute();

    // Loss counts per task and reason, incremented once per batch; device-level rows stay in `losses`.
    await db.schema
      .createTable('loss_counts')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('code', 'bigint', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('loss_counts_pk', ['app_id', 'task_id', 'code'])
      .execute();
    await db.schema.createIndex('losses_device_idx').on('losses').columns(['app_id', 'registration_id', 'task_id']).execute();

    // Per-user daily frequency cap: which pushes each account got on each local day.
    await db.schema
      .createTable('daily_pushes')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('daily_pushes_pk', ['app_id', 'account', 'day', 'task_id'])
      .execute();

    await db.schema
      .createTable('sched_tasks')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('sched_id', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('sched_at', 'bigint', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('dispatch_success', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('dispatch_err', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('push_task_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('lease_until', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('sched_tasks_pk', ['app_id', 'sched_id'])
      .execute();
    await db.schema.createIndex('sched_tasks_due_idx').on('sched_tasks').columns(['status', 'sched_at']).execute();

    // Inbox seqs come from one counter per app, starting above every seq already handed out.
    await db.schema
      .createTable('seq_counters')
      .addColumn('app_id', 'bigint', (c) => c.primaryKey())
      .addColumn('last_seq', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into seq_counters (app_id, last_seq) select app_id, max(last_seq) from devices group by app_id`.execute(db);

    // Audience resolution reads only these indexes (covering): the tag's or value's accounts, in order.
    await db.schema.dropIndex('account_tags_tag_idx').execute();
    await db.schema.createIndex('account_tags_tag_idx').on('account_tags').columns(['app_id', 'tag', 'account']).execute();
    await db.schema.dropIndex('account_attrs_value_idx').execute();
    await db.schema.createIndex('account_attrs_value_idx').on('account_attrs').columns(['app_id', 'slot', 'value', 'account']).execute();

    // A message waits in an inbox until deliver_after (quiet hours); 0 = now. One row per device and task.
    await db.schema.alterTable('inbox').addColumn('deliver_after', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    // 1 = the message was recalled after the device got it, and the device has not been told yet
    await db.schema.alterTable('inbox').addColumn('recall_pending', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.dropIndex('inbox_task_idx').execute();
    await db.schema.createIndex('inbox_task_device_uq').unique().on('inbox').columns(['app_id', 'task_id', 'registration_id']).execute();
    // partial: only the few rows held for quiet hours are indexed
    await db.schema.createIndex('inbox_deferred_idx').on('inbox').column('deliver_after').where(sql.ref('deliver_after'), '>', 0).execute();
  },
};

migrations['0004_certificates'] = {
  async up(db: Kysely<unknown>) {
    // Vendor credentials per app; `cert_id` is what devices report as their certificate id.
    await db.schema
      .createTable('certificates')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('cert_id', 'bigint', (c) => c.notNull())
      .addColumn('vendor', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('certificates_pk', ['app_id', 'cert_id'])
      .execute();
  },
};

migrations['0005_vendor_counts'] = {
  async up(db: Kysely<unknown>) {
    // Per task and vendor: devices handed to the vendor ('sent') and those its receipts say arrived ('reached').
    await db.schema
      .createTable('vendor_counts')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('vendor', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('vendor_counts_pk', ['app_id', 'task_id', 'vendor', 'outcome'])
      .execute();
    // 1 = this single or batch push also went to the device through its vendor: a recall overwrites it there
    await db.schema.alterTable('inbox').addColumn('vendor_sent', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  },
};

migrations['0006_voip_token'] = {
  async up(db: Kysely<unknown>) {
    // An iOS device has two APNs tokens: its alert token (`token`) and its PushKit VoIP token (§1.5).
    await db.schema.alterTable('devices').addColumn('voip_token', 'text').execute();
  },
};

migrations['0007_stats'] = {
  async up(db: Kysely<unknown>) {
    // Funnel and loss counters per task, hour, channel (EventType), platform and metric: one upsert
    // per distinct key per flush (stats/recorder.ts). `family` 0 = all-users, tag and single pushes, 1 = chat message pushes.
    await db.schema
      .createTable('stat_counters')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('family', 'bigint', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('hour', 'bigint', (c) => c.notNull())
      .addColumn('event_type', 'bigint', (c) => c.notNull())
      .addColumn('platform', 'bigint', (c) => c.notNull())
      .addColumn('metric', 'text', (c) => c.notNull())
      .addColumn('code', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('stat_counters_pk', ['app_id', 'task_id', 'hour', 'event_type', 'platform', 'metric', 'code'])
      .execute();
    await db.schema.createIndex('stat_counters_hour_idx').on('stat_counters').columns(['app_id', 'family', 'hour']).execute();

    // Per-device steps that no other table keeps (vendor sends and receipts, first gateway sends),
    // for the message link; bounded per task and pruned with the retention.
    await db.schema
      .createTable('trace_events')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('registration_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('event_type', 'bigint', (c) => c.notNull())
      .addColumn('platform', 'bigint', (c) => c.notNull())
      .addColumn('code', 'bigint', (c) => c.notNull())
      .addColumn('info', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('trace_events_device_idx').on('trace_events').columns(['app_id', 'task_id', 'registration_id']).execute();
    await db.schema.createIndex('trace_events_at_idx').on('trace_events').column('at').execute();

    // Webhook bodies waiting to be posted to the app's backend (callbacks/): one row per request
    // of 1–100 events, written in the transaction that counted them.
    await db.schema
      .createTable('callback_outbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('command', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('event_count', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('next_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('callback_outbox_due_idx').on('callback_outbox').columns(['status', 'next_at']).execute();

    // First hand-over of an inbox row to a session (the gateway channel's "sent"); null = not yet.
    await db.schema.alterTable('inbox').addColumn('sent_at', 'bigint').execute();
    // Push records: searched by time and kind.
    await db.schema.createIndex('tasks_created_idx').on('tasks').columns(['app_id', 'created_at']).execute();
  },
};

// The callback sender claims, counts and resumes one app's rows at a time (callbacks/), so a large
// backlog of one app is never scanned to find another's.
migrations['0008_callbacks'] = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('callback_outbox_app_idx').on('callback_outbox').columns(['status', 'app_id', 'next_at']).execute();
  },
};

// A claim reads an app's due rows in (next_at, id) order and skips leased ones from the index
// alone: reading lease_until from the table walked past each row's body (up to 100 events).
migrations['0009_callback_claims'] = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('callback_outbox_app_idx').execute();
    await db.schema.createIndex('callback_outbox_claim_idx').on('callback_outbox').columns(['status', 'app_id', 'next_at', 'id', 'lease_until']).execute();
  },
};

// Push templates (reference §3.2: OfflinePushInfo.PushTemplateId, trtc.io/document/77715). The id
// shown to callers is `{SDKAppID}-{template_id}`. A deleted template keeps its row (deleted_at), so
// its number is never handed out again and a push still naming it fails instead of reaching a stranger.
migrations['0010_push_templates'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('push_templates')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('template_id', 'bigint', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      // JSON: [{Language, Title, Desc}], or null
      .addColumn('contents', 'text')
      .addColumn('ext', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .addPrimaryKeyConstraint('push_templates_pk', ['app_id', 'template_id'])
      .execute();
  },
};

// Per-user conversation settings the chat push consults (store/conversations.ts). The mute key
// leads with the conversation: a chat push asks which of one conversation's recipients muted it.
migrations['0011_conversations'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('conversation_mutes')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('conversation', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      // null = until unmuted
      .addColumn('muted_until', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('conversation_mutes_pk', ['app_id', 'conversation', 'user_id'])
      .execute();
    await db.schema.createIndex('conversation_mutes_user_idx').on('conversation_mutes').columns(['app_id', 'user_id']).execute();

    // Minutes of the local day; start > end spans midnight. time_zone null = the user's latest device's, else UTC.
    await db.schema
      .createTable('dnd_hours')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('start_minute', 'bigint', (c) => c.notNull())
      .addColumn('end_minute', 'bigint', (c) => c.notNull())
      .addColumn('time_zone', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('dnd_hours_pk', ['app_id', 'user_id'])
      .execute();

    await db.schema
      .createTable('badges')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('badges_pk', ['app_id', 'user_id'])
      .execute();
  },
};

migrations['0012_call_ids'] = {
  async up(db: Kysely<unknown>) {
    // A call invitation keeps its CallId in data_id; cancelling the call finds its pushes by it.
    await db.schema.createIndex('tasks_call_idx').on('tasks').columns(['app_id', 'data_id']).where(sql.ref('kind'), '=', 'call').execute();
  },
};

// An outbox row holds up to 1,000 events, posted as requests of 100 (callbacks/events.ts): `posted`
// counts the events of its first requests already delivered, so a retry goes on from there.
migrations['0013_callback_progress'] = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('callback_outbox').addColumn('posted', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  },
};

// A single or batch push is routed (handed to sessions, then to vendors) by the process that
// accepted it, under a lease: a push still `accepted` whose lease lapsed lost its process midway and
// is routed again by another (dispatch/batch-recovery.ts).
migrations['0014_task_route_lease'] = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('tasks').addColumn('lease_owner', 'text').execute();
    await db.schema.alterTable('tasks').addColumn('lease_until', 'bigint').execute();
  },
};

// A push whose fan-out keeps failing is retried with back-off, then given up on (status 'failed'):
// how many attempts failed, why the last did, and when the next may run survive a restart.
migrations['0015_task_failures'] = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('tasks').addColumn('attempts', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('tasks').addColumn('fail_reason', 'text').execute();
    await db.schema.alterTable('tasks').addColumn('retry_at', 'bigint').execute();
  },
};

// Each app's certificate, scheduled-task and push-template ids come from one counter row, which an
// upsert takes in one statement (app-counters.ts), so concurrent calls never pick the same id.
migrations['0016_app_counters'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('app_counters')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('app_counters_pk', ['app_id', 'name'])
      .execute();
  },
};

// A certificate its vendor refuses (wrong key, project, package or environment) is stopped rather
// than allowed to clear its devices' tokens; whether it has ever worked decides how some answers
// are read (channels/certificate-health.ts).
migrations['0017_certificate_health'] = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('certificates').addColumn('stopped_at', 'bigint').execute();
    await db.schema.alterTable('certificates').addColumn('stop_code', 'bigint').execute();
    await db.schema.alterTable('certificates').addColumn('stop_reason', 'text').execute();
    await db.schema.alterTable('certificates').addColumn('proven_at', 'bigint').execute();
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * PostgreSQL errors for a schema or table that vanished while being looked at. The migrator reads
 * the catalog of the whole database (pg_get_serial_sequence on every table), which fails when a
 * neighbour drops its schema at that moment; the next look succeeds.
 */
const VANISHED = new Set(['3F000', '42P01']);
const ATTEMPTS = 3;

/** `schema`: the PostgreSQL schema Herald's tables live in, so the migrator looks for its own tables there and not in a neighbour's. */
export async function migrateToLatest(db: Kysely<unknown>, schema?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'herald_migrations',
    migrationLockTableName: 'herald_migrations_lock',
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (!error && !failed) return;
    const code = (error as { code?: unknown } | undefined)?.code;
    // nothing was applied (each migration runs in the migrator's transaction), so trying again is safe
    if (!failed && typeof code === 'string' && VANISHED.has(code) && attempt < ATTEMPTS) {
      await new Promise((r) => setTimeout(r, 50 * attempt));
      continue;
    }
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
