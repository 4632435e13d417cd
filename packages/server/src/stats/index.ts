export { Receipts } from './receipts.js';
export { LossReason, type LossReasonKey } from './loss-reasons.js';
