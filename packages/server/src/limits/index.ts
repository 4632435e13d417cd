import { attemptLimiter } from './attempt-limiter.js';
import { FailureGuard, RequestLimit } from './failure-guard.js';

export { type AttemptLimiter, type LimitVerdict, MemoryAttemptLimiter, attemptLimiter, unlimited } from './attempt-limiter.js';
export { FailureGuard, RequestLimit, retryAfterSeconds, type Refusal } from './failure-guard.js';
export { addressKey, clientAddress, compileTrustProxy, type TrustProxy } from './source-address.js';

/** Bounds a minute, each per source address and per app; 0 turns one off (HERALD_LIMIT_*). */
export interface LimitSettings {
  adminAuthFailuresPerAddress: number;
  adminAuthFailuresPerApp: number;
  deviceAuthFailuresPerAddress: number;
  deviceAuthFailuresPerApp: number;
  registrationsPerAddress: number;
  registrationsPerApp: number;
}

/** The limits at Herald's edges: admin UserSigs, device credentials, registrations. */
export interface EdgeLimits {
  adminAuth: FailureGuard;
  deviceAuth: FailureGuard;
  registrations: RequestLimit;
}

export type LimitName = 'admin_auth' | 'device_auth' | 'registration';

export function edgeLimits(s: LimitSettings, onRefused: (limit: LimitName) => void = () => {}): EdgeLimits {
  return {
    adminAuth: new FailureGuard(attemptLimiter(s.adminAuthFailuresPerAddress), attemptLimiter(s.adminAuthFailuresPerApp), () => onRefused('admin_auth')),
    deviceAuth: new FailureGuard(attemptLimiter(s.deviceAuthFailuresPerAddress), attemptLimiter(s.deviceAuthFailuresPerApp), () => onRefused('device_auth')),
    registrations: new RequestLimit(attemptLimiter(s.registrationsPerAddress), attemptLimiter(s.registrationsPerApp), () => onRefused('registration')),
  };
}
