import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { Batcher } from '../util/batcher.js';

interface Seen {
  appId: number;
  registrationId: string;
  sdkVersion?: string;
}

/**
 * Records when devices connect (and the SDK version they report). Reconnect storms after a restart
 * bring thousands of connects a second, so these writes go out in batches: one statement per app
 * and SDK version per flush.
 */
export class LastSeen {
  private batcher: Batcher<Seen>;

  constructor(db: Kysely<Database>, onError: (err: unknown) => void) {
    this.batcher = new Batcher<Seen>(async (items) => {
      const now = Date.now();
      const groups = new Map<string, { appId: number; sdkVersion?: string; ids: Set<string> }>();
      for (const s of items) {
        const key = `${s.appId}\u0000${s.sdkVersion ?? ''}`;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { appId: s.appId, sdkVersion: s.sdkVersion, ids: new Set() }));
        g.ids.add(s.registrationId);
      }
      for (const g of groups.values()) {
        await db
          .updateTable('devices')
          .set(g.sdkVersion ? { last_seen_at: now, sdk_version: g.sdkVersion } : { last_seen_at: now })
          .where('app_id', '=', g.appId)
          .where('registration_id', 'in', [...g.ids])
          .execute();
      }
    }, onError, 200, 2000);
  }

  seen(appId: number, registrationId: string, sdkVersion?: string): void {
    this.batcher.add({ appId, registrationId, sdkVersion });
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }
}
