import { z } from 'zod';
import { familyOf } from '../../dispatch/task-id.js';
import { certificates, shards, statCounters, tasks } from '../../store/index.js';
import { viewOf } from '../../channels/certificate-service.js';
import { certificateState } from './certificates.js';
import { funnelOf, funnelsBy } from '../../stats/funnel.js';
import { EventType, PLATFORM_NAMES } from '../../stats/platforms.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { parseBody } from './input.js';

const Body = z.object({ TaskId: z.string().min(1).max(128) });

const seconds = (ms: number | null) => (ms === null ? 0 : Math.floor(Number(ms) / 1000));

/**
 * `v4/timpush/get_push_task` (Herald's): one push's status and progress, for following a large
 * push as it goes out. Status: resolving, sending, done, expired, revoked or failed for all-users
 * and tag pushes; accepted or routed for single and batch pushes.
 */
export const getPushTask: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(Body, body);
    const appId = caller.app.sdkAppId;
    const t = await tasks.findTask(deps.db, appId, b.TaskId);
    if (!t) throw new TimError(TimCode.noSuchTask, `no push with TaskId ${b.TaskId}`);
    const [p, counts, certs] = await Promise.all([
      shards.progress(deps.db, appId, t.task_id),
      statCounters.sumCounters(deps.db, { appId, family: familyOf(t.task_id), taskIds: [t.task_id] }, ['eventType', 'platform', 'code']),
      certificates.listCertificates(deps.db, appId),
    ]);
    const losses = [...new Map(counts.filter((c) => c.metric.startsWith('loss')).map((c) => [`${c.metric}:${c.code}`, c])).keys()].map((k) => {
      const of = counts.filter((c) => `${c.metric}:${c.code}` === k);
      return { code: of[0]!.code, stage: of[0]!.metric === 'loss_ready' ? 'ready_to_send' : 'post_send', reason: of[0]!.reason, count: of.reduce((n, c) => n + c.count, 0) };
    });
    const vendors = [...funnelsBy(counts.filter((c) => c.eventType === EventType.offline && c.platform > 0), (c) => c.platform)].map(([platform, f]) => ({ vendor: PLATFORM_NAMES[platform] ?? String(platform), sent: f.sent, reached: f.reached }));
    const f = funnelOf(counts);
    return {
      Task: {
        TaskId: t.task_id,
        Type: t.kind,
        Status: t.status,
        PushFlag: Number(t.push_flag),
        CreateTime: seconds(t.created_at),
        ExpireTime: seconds(t.expires_at),
        FinishTime: seconds(t.finished_at),
        RevokeTime: seconds(t.revoked_at),
        AudienceCount: Number(t.target_count),
        InboxCount: Number(t.materialized),
        DroppedCount: Number(t.dropped),
        Shards: p.shards,
        ShardsDone: p.done,
        Processed: p.processed,
        // failed attempts so far, and why the last one failed (why the push was given up on, once failed)
        Attempts: Number(t.attempts),
        FailReason: t.fail_reason ?? '',
        Funnel: { Sendable: f.sendable, Sent: f.sent, Reached: f.reached, Clicked: f.clicked, SendRate: f.sendRate, ReachRate: f.reachRate, ClickRate: f.clickRate },
        Losses: losses.sort((a, b) => b.code - a.code).map((l) => ({ ErrCode: l.code, ErrInfo: l.reason, Stage: l.stage, Count: l.count })),
        // devices handed to each vendor, and those its delivery receipts said arrived
        Vendors: vendors.map((v) => ({ Vendor: v.vendor, Sent: v.sent, Reached: v.reached })),
        // the app's certificates now: a stopped one is why its vendor's devices are lost (-14)
        Certificates: certs.map(viewOf).map((v) => ({ CertId: v.certId, Vendor: v.vendor, ...certificateState(v) })),
      },
    };
  },
};
