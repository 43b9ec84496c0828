import type { FeedbackVerdict, TaskOutcome } from '../rollup/task-outcome.js';
import type { TaskRollup, ToolCallRollup } from '../rollup/task-rollup.js';
import type { TaskCheckpoints } from './checkpoint-views.js';

export type * from './checkpoint-views.js';

/** The shapes the JSON API returns and the store's reads produce; the CLI prints them too. */

export interface TaskFeedback {
  verdict: FeedbackVerdict;
  note: string | null;
  recordedAt: string;
}

/** The counts a task's rollup computed that the API shows as they are. */
type TaskCounts = Pick<
  TaskRollup,
  | 'taskId'
  | 'traceIds'
  | 'outcome'
  | 'durationMs'
  | 'services'
  | 'toolCalls'
  | 'failedCalls'
  | 'retries'
  | 'inputTokens'
  | 'outputTokens'
  | 'authFailures'
>;

/** A task as the API returns it. */
export interface TaskSummary extends TaskCounts {
  /** ISO 8601. */
  startTime: string;
  feedback: TaskFeedback | null;
}

/** One call of a task as the API returns it: the rollup's call, its arguments parsed. */
export interface ToolCallView extends Pick<
  ToolCallRollup,
  'spanId' | 'traceId' | 'service' | 'method' | 'tool' | 'outcome' | 'errorType' | 'durationMs' | 'retryOf'
> {
  /** The redacted arguments as JSON, or their text when they are not JSON. */
  arguments: unknown;
  /** When the call started, and how long after its task started (ms): where it sits on the timeline. */
  startTime: string;
  offsetMs: number;
  /** `input_required` rounds the caller answered before the call completed (protocol 2026-07-28). */
  inputRequired?: { rounds: number; waitMs: number };
  /** The task (tasks extension) the call became: its last status seen, and time spent waiting for input. */
  mcpTask?: { taskId: string; status: string | null; inputRequiredMs: number };
}

export interface TaskDetail {
  task: TaskSummary;
  calls: ToolCallView[];
  /** Its human checkpoints and writes (see `checkpoint-views.ts`). */
  checkpoints?: TaskCheckpoints;
}

/** Calls of one tool over some time: counts and latency percentiles. */
export interface ToolCallStats {
  calls: number;
  errors: number;
  /** Failed calls by error type (see `rollup/failed-call.ts`). */
  errorsByType: Record<string, number>;
  retries: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface ToolSummary extends ToolCallStats {
  tool: string;
  services: string[];
}

/** One tool's calls in one minute. */
export interface ToolMinuteRollup extends ToolCallStats {
  tool: string;
  /** Start of the minute, Unix milliseconds. */
  minuteMs: number;
}

export interface TimeRange {
  /** Unix milliseconds, inclusive. */
  fromMs?: number;
  /** Unix milliseconds, exclusive. */
  toMs?: number;
}

export interface TaskQuery extends TimeRange {
  outcome?: TaskOutcome;
  service?: string;
  tool?: string;
  limit: number;
  offset?: number;
  /** Continue after this task (from a previous page's last task). */
  after?: { startNs: bigint; taskId: string };
}

export interface TaskPage {
  tasks: TaskSummary[];
  /** Position of the last task returned when the page was full, for the next page. */
  last: { startNs: bigint; taskId: string } | null;
}
