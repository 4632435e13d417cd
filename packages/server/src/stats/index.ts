export { Receipts } from './receipts.js';
export { LossReason } from './loss-reasons.js';
