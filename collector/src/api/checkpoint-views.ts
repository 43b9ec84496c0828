import type { CheckpointStatus } from '../rollup/checkpoint-conventions.js';
import type { OutcomeCounts, VerdictCounts, WriteVerdict } from '../rollup/checkpoints.js';
import type { TimeRange } from './views.js';

/** The API's shapes of human checkpoints and writes (see `docs/checkpoint-verdicts.md`). */

/** A write as the API shows it: its verdict, or `not_executed` when it never ran. */
export interface WriteView {
  traceId: string;
  taskId: string | null;
  callerSpanId: string | null;
  serverSpanId: string | null;
  tool: string | null;
  service: string;
  checkpointId: string | null;
  startTime: string;
  verdict: WriteVerdict | 'not_executed';
  orphaned: boolean;
  destructive: 'true' | 'false' | 'unknown';
  callerErrorType: string | null;
  serverErrorType: string | null;
}

export interface CheckpointView {
  checkpointId: string;
  taskId: string | null;
  traceId: string;
  kind: string | null;
  tool: string | null;
  service: string;
  status: CheckpointStatus;
  /** ISO 8601. */
  requestedAt: string;
  decidedAt: string | null;
  waitMs: number | null;
  /** How long it has been waiting, for a pending checkpoint. */
  pendingMs: number | null;
  reviewer: string | null;
  expiresAt: string | null;
  mode: string | null;
  stateVersion: string | null;
  /** The writes that claimed this checkpoint, with their verdicts. */
  writes: WriteView[];
}

export interface CheckpointQuery extends TimeRange {
  service?: string;
  tool?: string;
  status?: CheckpointStatus;
  limit: number;
  offset?: number;
}

export interface CheckpointPage {
  /** What is pending now among the checkpoints the filters select (status aside). */
  pending: { count: number; oldestPendingMs: number | null };
  /** Checkpoints the filters select, all pages. */
  total: number;
  checkpoints: CheckpointView[];
}

export interface WriteQuery extends TimeRange {
  service?: string;
  tool?: string;
  verdict?: WriteVerdict | 'not_executed';
  orphaned?: boolean;
  limit: number;
  offset?: number;
}

export interface WritePage {
  /** Writes the filters select, all pages. */
  total: number;
  /** Verdicts of the writes the filters select (verdict and orphaned filters aside). */
  counts: VerdictCounts;
  writes: WriteView[];
}

/** A task's checkpoints: counts by status, wait percentiles, its writes' verdicts. */
export interface TaskCheckpoints {
  outcomes: OutcomeCounts;
  waitMs: { p50: number; p95: number; max: number } | null;
  writes: VerdictCounts;
  checkpoints: CheckpointView[];
  writeList: WriteView[];
}
