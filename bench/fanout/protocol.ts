/**
 * Messages between the fan-out orchestrator and its client processes (fork IPC). A client is started
 * with the gateway benchmark's ClientStart (bench/gateway/protocol.ts) and reports as below.
 */

/** Orchestrator → client: report what the devices received for this message id. */
export interface ReportRequest {
  cmd: 'report';
  taskId: string;
}

/** Sent about every 200 ms. */
export interface ClientProgress {
  type: 'progress';
  ready: number;
  failed: number;
  /** Devices that have received at least one `msg` frame. */
  received: number;
}

export interface FanoutReport {
  type: 'report';
  /** Devices that authenticated (got `ready`). */
  devices: number;
  /** Devices that got exactly one `msg` frame, with the task's id, and nothing else. */
  exactlyOne: number;
  /** Devices that got no frame with the task's id. */
  missing: number;
  /** `msg` frames with the task's id beyond the first, over all devices. */
  duplicates: number;
  /** `msg` frames with another id. */
  otherIds: number;
  /** Receipt time (epoch ms, nowMs()) of each device's first frame with the task's id. */
  receipts: number[];
  /** Size of one such frame in bytes (0 if none arrived). */
  frameBytes: number;
  unexpectedCloses: number;
}
