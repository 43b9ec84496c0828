import type {
  TaskDetail,
  TaskPage,
  TaskQuery,
  TimeRange,
  ToolMinuteRollup,
  ToolSummary,
} from '../api/views.js';
import type { CheckpointPage, CheckpointQuery, WritePage, WriteQuery } from '../api/checkpoint-views.js';
import type { SpanRecord } from '../model/span.js';
import type { CheckpointState } from '../rollup/checkpoints.js';
import type { FeedbackVerdict } from '../rollup/index.js';
import { StoreConnections, type ConnectionOperation } from './duckdb/connections.js';
import {
  checkpointsAndWrites,
  listCheckpoints,
  listWrites,
  pendingCheckpoints,
  taskCheckpoints,
} from './duckdb/checkpoint-queries.js';
import { commitIngestBatch } from './duckdb/ingest-commit.js';
import {
  checkpoint,
  deleteFeedbackRecordedBefore,
  deleteSpansEndedBefore,
  ToolStatRows,
} from './duckdb/maintenance.js';
import { PendingLedger } from './duckdb/pending-ledger.js';
import { RollupScheduler } from './duckdb/rollup-scheduler.js';
import { RollupTransaction } from './duckdb/rollup-transaction.js';
import { ProducerClaims } from './duckdb/producer-claims.js';
import { KnownIds } from './duckdb/stored-spans.js';
import { getTask, listTasks, recordTaskFeedback } from './duckdb/task-queries.js';
import { listTools, toolMinutes } from './duckdb/tool-queries.js';
import { big, str } from './duckdb/values.js';
import type { CommitResult, RollupResult, SpanStore } from './ports.js';

export { ROLLUP_ATTEMPTS_BEFORE_SET_ASIDE } from './duckdb/rollup-scheduler.js';

export interface DuckDbStoreOptions {
  /** Database file; `:memory:` for a throwaway store. */
  path: string;
  threads?: number;
  memoryLimit?: string;
  /** WAL size that triggers an automatic checkpoint; raised so checkpoints run on our timer instead. */
  checkpointThreshold?: string;
  /** How long acknowledged spans may wait before their tasks are rolled up (reads never wait longer). */
  rollupIntervalMs?: number;
  /** Spans waiting for their rollup that start one at once. */
  rollupBatchSpans?: number;
  /** Told what every rollup changed, for metrics; must not throw. */
  onRolledUp?: (result: RollupResult, seconds: number) => void;
  /** Told when a rollup failed; its traces stay pending and the rollup is tried again. */
  onRollupFailed?: (error: unknown) => void;
  /**
   * Told when a trace is set aside: its rollup failed alone, while others rolled up, on
   * {@link ROLLUP_ATTEMPTS_BEFORE_SET_ASIDE} attempts in a row. Its spans stay stored and it stays marked
   * pending in the file, so the next start tries it again; until then it holds no other rollup up.
   */
  onTraceSetAside?: (traceId: string, error: unknown) => void;
  /**
   * Spans a task may hold and still be recomputed: a rollup holds all of a task's spans in memory, so
   * a task past this (a task id reused by every run of a job, say) keeps the rollup it had.
   */
  maxTaskSpans?: number;
  /** How long a read waits for the rollup of spans acknowledged before it, at most. */
  readWaitMs?: number;
  /**
   * From this many stored spans on, a task that only gains new traces starting after its end is
   * extended from its stored rollup instead of recomputed from all of its spans.
   */
  incrementalTaskSpans?: number;
  /** Told once per task, per process, when a task is past `maxTaskSpans`. */
  onTaskTooLarge?: (taskId: string, spans: number) => void;
  /** Above this many calls in a range, `listTools` reads per-minute stats (percentiles within 1%). */
  exactToolStatsLimit?: number;
  /** Tool-stat rows past which a checkpoint first folds them into one row per key. */
  toolStatsCompactRows?: number;
}

/**
 * Spans and rollups in one DuckDB file. Ingest is two steps: a commit appends a batch's new spans
 * and marks their traces pending (the exporters are answered after it), and a rollup, a moment later
 * and for many batches at once, recomputes the tasks of the pending traces in its own transaction.
 * Reads first wait for the rollup of everything acknowledged before them. This class only wires the
 * parts in `duckdb/` together; each of them does one job.
 */
export class DuckDbStore implements SpanStore {
  private constructor(
    private readonly connections: StoreConnections,
    private readonly ledger: PendingLedger,
    private readonly known: KnownIds,
    private readonly toolStats: ToolStatRows,
    private readonly scheduler: RollupScheduler,
    private readonly exactToolStatsLimit: number,
  ) {}

  /** Which producer identity holds each trace and task id; a commit reads and extends it. */
  private readonly claims = new ProducerClaims();

  static async open({
    path,
    threads = 2,
    memoryLimit = '256MB',
    checkpointThreshold = '256MB',
    rollupIntervalMs = 200,
    rollupBatchSpans = 20_000,
    exactToolStatsLimit = 100_000,
    toolStatsCompactRows = 100_000,
    onRolledUp,
    onRollupFailed,
    onTraceSetAside,
    maxTaskSpans = 100_000,
    readWaitMs = 5_000,
    incrementalTaskSpans = 2_000,
    onTaskTooLarge,
  }: DuckDbStoreOptions): Promise<DuckDbStore> {
    const connections = await StoreConnections.open({ path, threads, memoryLimit, checkpointThreshold });
    const ledger = new PendingLedger();
    const known = new KnownIds();
    const toolStats = new ToolStatRows(toolStatsCompactRows);
    const transaction = new RollupTransaction(
      known,
      ledger.setAside,
      { maxTaskSpans, incrementalTaskSpans, onTaskTooLarge },
      (rows) => toolStats.added(rows),
    );
    const scheduler = new RollupScheduler(connections, ledger, transaction, {
      rollupIntervalMs,
      rollupBatchSpans,
      readWaitMs,
      onRolledUp,
      onRollupFailed,
      onTraceSetAside,
    });
    const store = new DuckDbStore(connections, ledger, known, toolStats, scheduler, exactToolStatsLimit);
    await store.recoverPending();
    return store;
  }

  /** Loads the id filters, then rolls up traces acknowledged before a crash, before anything else. */
  private async recoverPending(): Promise<void> {
    await this.connections.starting(async (connection) => {
      await this.known.load(connection);
      await this.claims.load(connection);
      const reader = await connection.runAndReadAll(
        'SELECT trace_id, sum(spans) AS spans, max(seq) AS seq FROM rollup_pending GROUP BY trace_id',
      );
      this.ledger.recover(
        reader.getRowObjectsJS().map((row) => ({
          traceId: str(row.trace_id),
          spans: Number(row.spans),
          seq: big(row.seq),
        })),
      );
      await this.toolStats.load(connection);
    });
    // A rollup that keeps failing is retried in the background and logged: it never keeps the collector from serving.
    if (this.ledger.traceCount > 0) await this.scheduler.flush().catch(() => undefined);
  }

  get isOpen(): boolean {
    return this.connections.isOpen;
  }

  /** Spans acknowledged whose rollup has not committed yet. */
  get pendingRollupSpans(): number {
    return this.ledger.unrolledSpans;
  }

  async schemaVersions(): Promise<number[]> {
    return this.read(async (connection) => {
      const reader = await connection.runAndReadAll('SELECT version FROM schema_migrations ORDER BY version');
      return reader.getRowObjectsJS().map((row) => Number(row.version));
    });
  }

  async commit(spans: readonly SpanRecord[]): Promise<CommitResult> {
    const result = await this.connections.write((connection) =>
      commitIngestBatch(connection, { ledger: this.ledger, known: this.known, claims: this.claims }, spans),
    );
    if (result.stored.length > 0) this.scheduler.committed();
    return result;
  }

  flushRollups(): Promise<void> {
    return this.scheduler.flush();
  }

  listTasks(query: TaskQuery): Promise<TaskPage> {
    return this.read((connection) => listTasks(connection, query));
  }

  getTask(taskId: string): Promise<TaskDetail | null> {
    return this.read(async (connection) => {
      const detail = await getTask(connection, taskId);
      if (detail === null) return null;
      return { ...detail, checkpoints: await taskCheckpoints(connection, taskId, Date.now()) };
    });
  }

  listCheckpoints(query: CheckpointQuery): Promise<CheckpointPage> {
    return this.read((connection) => listCheckpoints(connection, query, Date.now()));
  }

  listWrites(query: WriteQuery): Promise<WritePage> {
    return this.read((connection) => listWrites(connection, query));
  }

  pendingCheckpoints(): Promise<CheckpointState[]> {
    return this.read((connection) => pendingCheckpoints(connection));
  }

  checkpointsAndWrites(checkpointIds: readonly string[], traceIds: readonly string[]) {
    return this.read((connection) => checkpointsAndWrites(connection, checkpointIds, traceIds));
  }

  listTools(range: TimeRange): Promise<ToolSummary[]> {
    return this.read((connection) => listTools(connection, range, this.exactToolStatsLimit));
  }

  toolMinutes(tool: string, range: TimeRange): Promise<ToolMinuteRollup[]> {
    return this.read((connection) => toolMinutes(connection, tool, range));
  }

  async recordFeedback(taskId: string, verdict: FeedbackVerdict, note: string | null): Promise<boolean> {
    await this.scheduler.caughtUp();
    return this.connections.write((connection) => recordTaskFeedback(connection, { taskId, verdict, note }));
  }

  deleteSpansEndedBefore(cutoffMs: number): Promise<number> {
    return this.connections.write(async (connection) => {
      const deleted = await deleteSpansEndedBefore(connection, cutoffMs);
      this.claims.forgetRecent();
      return deleted;
    });
  }

  /** Deletes verdicts (from the API or from spans) recorded before the cutoff. Returns the number deleted. */
  deleteFeedbackRecordedBefore(cutoffMs: number): Promise<number> {
    return this.connections.write((connection) => deleteFeedbackRecordedBefore(connection, cutoffMs));
  }

  /** Runs between rollups: a checkpoint refuses to run beside another connection's write transaction. */
  checkpoint(): Promise<void> {
    return this.connections.betweenRollups((connection) => checkpoint(connection, this.toolStats));
  }

  async close(): Promise<void> {
    if (!this.connections.isOpen) return;
    this.scheduler.stopTimer();
    // What was acknowledged is in the file either way; rolling it up now saves the next start the work.
    await this.scheduler.flush().catch(() => undefined);
    const closing = this.connections.close();
    this.scheduler.stopTimer();
    await closing;
  }

  private async read<T>(operation: ConnectionOperation<T>): Promise<T> {
    if (!this.connections.isOpen) throw new Error('store is closed');
    await this.scheduler.caughtUp();
    return this.connections.read(operation);
  }
}
