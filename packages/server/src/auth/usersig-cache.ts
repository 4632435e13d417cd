import { checkUserSig, type UserSigFailure } from './usersig.js';

/**
 * Backends send the same UserSig with every call for days; inflating, parsing and HMAC-ing it each
 * time showed in the push path's profile. Valid UserSigs are remembered until they expire, keyed
 * by everything the verdict depends on (the secret key included, so a changed key takes effect).
 * Failures are not cached: they are rare and must stay cheap to retry after a fix.
 */
export class UserSigCache {
  private valid = new Map<string, number>();
  constructor(private max = 10_000) {}

  verify(userSig: string, sdkAppId: number, identifier: string, key: string, now = Date.now()): UserSigFailure | null {
    const k = `${sdkAppId}\u0000${identifier}\u0000${key}\u0000${userSig}`;
    const until = this.valid.get(k);
    if (until !== undefined) {
      if (until >= now) return null;
      this.valid.delete(k);
    }
    const r = checkUserSig(userSig, sdkAppId, identifier, key, now);
    if (!r.failure) {
      if (this.valid.size >= this.max) this.valid.delete(this.valid.keys().next().value!);
      this.valid.set(k, r.expiresAt);
    }
    return r.failure;
  }
}
