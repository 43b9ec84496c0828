import type { SpanRecord } from '../model/span.js';
import type {
  FeedbackVerdict,
  SpanFacts,
  TaskOutcome,
  TaskRollup,
  ToolCallRollup,
  ToolMinuteRollup,
} from '../rollup/index.js';

export interface TaskFeedback {
  verdict: FeedbackVerdict;
  note: string | null;
  recordedAt: string;
}

/** A task as the API returns it. */
export interface TaskSummary {
  taskId: string;
  traceIds: string[];
  outcome: TaskOutcome;
  startTime: string;
  durationMs: number;
  services: string[];
  toolCalls: number;
  failedCalls: number;
  retries: number;
  inputTokens: number;
  outputTokens: number;
  authFailures: number;
  feedback: TaskFeedback | null;
}

export interface ToolCallView {
  spanId: string;
  traceId: string;
  service: string;
  method: string;
  tool: string;
  outcome: 'success' | 'error';
  errorType: string | null;
  durationMs: number;
  arguments: unknown;
  retryOf: string | null;
}

export interface TaskDetail {
  task: TaskSummary;
  calls: ToolCallView[];
}

export interface ToolSummary {
  tool: string;
  services: string[];
  calls: number;
  errors: number;
  errorsByType: Record<string, number>;
  retries: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
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

/** What a commit changed, for metrics and forwarding (duplicates excluded). */
export interface CommitResult {
  /** Spans newly stored by this commit. */
  stored: SpanRecord[];
  /** What the rollups read of each stored span, in the same order. */
  facts: SpanFacts[];
  /** Spans in the batch that were already stored (or repeated within the batch). */
  duplicates: number;
}

/** What a rollup of acknowledged spans changed, for metrics. */
export interface RollupResult {
  /** Tasks whose rollups were recomputed. */
  touchedTasks: TaskRollup[];
  /** Tasks that no longer exist (their traces joined an explicit task id). */
  removedTaskIds: string[];
  /** Calls that became retries in this rollup. */
  newRetries: ToolCallRollup[];
}

/**
 * Where spans and their rollups live. One DuckDB file today; the interface is what a distributed
 * engine would implement when one machine's disk is not enough.
 */
export interface SpanStore {
  /** Appends the new spans in one transaction and resolves after COMMIT; rollups follow shortly. */
  commit(spans: readonly SpanRecord[]): Promise<CommitResult>;
  /** Rolls up everything committed so far; reads do this themselves first. */
  flushRollups(): Promise<void>;
  listTasks(query: TaskQuery): Promise<TaskPage>;
  getTask(taskId: string): Promise<TaskDetail | null>;
  listTools(range: TimeRange): Promise<ToolSummary[]>;
  toolMinutes(tool: string, range: TimeRange): Promise<ToolMinuteRollup[]>;
  /** Records a verdict; false when the task is unknown. */
  recordFeedback(taskId: string, verdict: FeedbackVerdict, note: string | null): Promise<boolean>;
  /** Deletes raw spans that ended before the cutoff; rollups stay. Returns the number deleted. */
  deleteSpansEndedBefore(cutoffMs: number): Promise<number>;
  /** Deletes verdicts recorded before the cutoff. Returns the number deleted. */
  deleteFeedbackRecordedBefore(cutoffMs: number): Promise<number>;
  checkpoint(): Promise<void>;
  readonly isOpen: boolean;
  close(): Promise<void>;
}
