import { InvalidArgumentError, Option, type Command } from 'commander';
import { RECORD_TYPES } from '../stats/index.js';
import { adminTarget, callAdmin, type ConnectionOptions } from './admin-request.js';

const UNITS: Readonly<Record<string, number>> = { m: 60, h: 3600, d: 86400 };

/** `30m`, `6h`, `7d` back from now, or a UTC time (`2026-11-20`, `2026-11-20 08:00:00`, ISO 8601), as Unix seconds. */
export function parseWhen(value: string, now = Date.now()): number {
  const ago = /^(\d+)([mhd])$/.exec(value);
  if (ago) return Math.floor(now / 1000) - Number(ago[1]) * UNITS[ago[2]!]!;
  // dates and times without a zone are UTC, as Tencent's SchedAt
  const utc = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const t = Date.parse(utc);
  if (Number.isNaN(t)) throw new InvalidArgumentError('give 30m, 6h, 7d, or a UTC time such as 2026-11-20 08:00:00');
  return Math.floor(t / 1000);
}

function pageSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('must be a whole number from 1 to 100');
  return n;
}

interface RecordView {
  TaskId: string;
  Type: string;
  Status: string;
  CreateTime: number;
  Title: string;
  SchedTask?: { TaskID: number; SchedAt: string };
  Progress?: { AudienceCount: number; InboxCount: number; Processed: number; Shards: number; ShardsDone: number };
}

function line(r: RecordView): string {
  const when = new Date(r.CreateTime * 1000).toISOString().slice(0, 19).replace('T', ' ');
  const id = r.TaskId || `sched ${r.SchedTask?.TaskID ?? ''} at ${r.SchedTask?.SchedAt ?? ''}`;
  const p = r.Progress;
  const progress = !p ? '' : p.Shards > 0 ? `${p.Processed}/${p.AudienceCount} scanned, ${p.InboxCount} to the gateway` : `${p.AudienceCount} targeted`;
  return [when, r.Type.padEnd(5), r.Status.padEnd(8), id, progress, JSON.stringify(r.Title)].filter(Boolean).join('  ');
}

interface RecordsOptions extends ConnectionOptions {
  type?: string[];
  since?: number;
  until?: number;
  search?: string;
  task?: string;
  limit: number;
  cursor?: string;
  json?: boolean;
}

/**
 * `herald push records`: the app's push records (v4/timpush/get_push_records), newest first. It
 * takes the connection options of `herald push` (--sdkappid, --server, --identifier, --key).
 */
export function addPushRecordsCommand(push: Command, secretKeyOf: (sdkAppId: number) => Promise<string | undefined>): void {
  push
    .command('records')
    .description('list recent pushes and scheduled pushes, newest first, with their status and progress')
    .addOption(new Option('--type <types...>', 'kinds of push (several: any of them; scheduled narrows to pushes from a schedule)').choices(RECORD_TYPES))
    .option('--since <when>', 'accepted at or after: 30m, 6h, 7d, or a UTC time', (v) => parseWhen(v))
    .option('--until <when>', 'accepted at or before, as --since', (v) => parseWhen(v))
    .option('--search <text>', 'text in the title or body')
    .option('--task <id>', 'one TaskId (or a scheduled TaskID)')
    .option('--limit <n>', 'records per page, 1–100', pageSize, 20)
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .option('--json', 'print the answer as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<RecordsOptions>();
      const target = await adminTarget(o, secretKeyOf);
      const body: Record<string, unknown> = { Limit: o.limit };
      if (o.type) body.Type = o.type;
      if (o.since !== undefined) body.StartTime = o.since;
      if (o.until !== undefined) body.EndTime = o.until;
      if (o.search) body.Search = o.search;
      if (o.task) body.TaskId = o.task;
      if (o.cursor) body.Cursor = o.cursor;
      const reply = await callAdmin(target, 'get_push_records', body);
      if (reply.ActionStatus !== 'OK' || o.json) {
        process.stdout.write(JSON.stringify(reply) + '\n');
        if (reply.ActionStatus !== 'OK') process.exitCode = 1;
        return;
      }
      for (const r of reply.Records as RecordView[]) process.stdout.write(line(r) + '\n');
      if (reply.NextCursor) process.stdout.write(`more: --cursor ${String(reply.NextCursor)}\n`);
    });
}
