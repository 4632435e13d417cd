export { Receipts } from './receipts.js';
export { LossReason } from './loss-reasons.js';
export { listPushRecords, RECORD_TYPES, type PushRecord, type RecordPage, type RecordPosition, type RecordQuery, type RecordType } from './push-records.js';
export { RecordStatus } from './push-status.js';
export { traceOf, traceOfPush, maskToken, TraceStep, type InstanceTraceView, type TraceStepView, type TraceTarget } from './push-trace.js';
export { StatsRecorder, lossEntries, type StatEntry, type StatDevice, type CallbackSink } from './recorder.js';
export { EventType, PushPlatform, platformOf } from './platforms.js';
