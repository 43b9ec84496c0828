import type { SpanRecord } from '../model/span.js';
import type { SpanFacts, TaskRollup, ToolCallRollup } from '../rollup/index.js';
import type { FeedbackVerdict } from '../rollup/task-outcome.js';
import type * as Api from '../api/views.js';
import type { CheckpointReads } from './checkpoint-port.js';

/** What a commit changed, for metrics and forwarding (duplicates excluded). */
export interface CommitResult {
  /** Spans newly stored by this commit. */
  stored: SpanRecord[];
  /** What the rollups read of each stored span, in the same order. */
  facts: SpanFacts[];
  /** Spans in the batch that were already stored (or repeated within the batch). */
  duplicates: number;
  /** Spans that named a trace or task id another producer holds, and were kept apart. */
  foreignClaims?: ForeignClaims;
}

export interface ForeignClaims {
  traces: number;
  tasks: number;
}

/** What a rollup of acknowledged spans changed, for metrics. */
export interface RollupResult {
  /** Tasks whose rollups were recomputed. */
  touchedTasks: TaskRollup[];
  /** Tasks that no longer exist (their traces joined an explicit task id). */
  removedTaskIds: string[];
  /**
   * Calls that became retries in this rollup, or whose retry is now named by another of its spans, or
   * that still wait for their caller's span: the metrics count each logical call once.
   */
  newRetries: ToolCallRollup[];
}

/**
 * Where spans and their rollups live. One DuckDB file today; the interface is what a distributed
 * engine would implement when one machine's disk is not enough.
 */
export interface SpanStore extends CheckpointReads {
  /** Appends the new spans in one transaction and resolves after COMMIT; rollups follow shortly. */
  commit(spans: readonly SpanRecord[]): Promise<CommitResult>;
  /** Rolls up everything committed so far; reads do this themselves first. */
  flushRollups(): Promise<void>;
  listTasks(query: Api.TaskQuery): Promise<Api.TaskPage>;
  getTask(taskId: string): Promise<Api.TaskDetail | null>;
  listTools(range: Api.TimeRange): Promise<Api.ToolSummary[]>;
  toolMinutes(tool: string, range: Api.TimeRange): Promise<Api.ToolMinuteRollup[]>;
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
