import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BIGINT, DuckDBInstance, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { SpanRecord } from '../model/span.js';
import {
  attemptGroup,
  bucketValue,
  extendTask,
  latencyBucket,
  rollUpTask,
  MINUTE_NS,
  minuteOf,
  spanFacts,
  tokenCountOf,
  spanKey,
  isTask,
  taskIdOfTrace,
  type FeedbackVerdict,
  type RootState,
  type SpanFacts,
  type StoredTask,
  type TaskOutcome,
  type TaskRollup,
  type ToolCallRollup,
  type ToolMinuteRollup,
} from '../rollup/index.js';
import { IdFilter } from './id-filter.js';
import { migrate } from './migrations.js';
import { SerialQueue } from './serial-queue.js';
import type {
  CommitResult,
  RollupResult,
  SpanStore,
  TaskDetail,
  TaskPage,
  TaskQuery,
  TaskSummary,
  TimeRange,
  ToolCallView,
  ToolSummary,
} from './types.js';

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

/** Traces with spans acknowledged but not rolled up yet. */
interface PendingTrace {
  /** Spans appended since the last rollup. */
  count: number;
  /** Their facts and ids; absent for traces found pending in the file at start-up. */
  facts?: SpanFacts[];
  spanIds?: Set<string>;
}

const ROLLUP_RETRY_MS = 1_000;
/** Failures of one trace's rollup alone, while other traces rolled up, before it is set aside. */
export const ROLLUP_ATTEMPTS_BEFORE_SET_ASIDE = 3;
/** Traces tried alone before a failure of all of them is taken for a failure of everything. */
const ISOLATION_PROBES = 8;
const HOUR_NS = 3_600_000_000_000n;

type Row = Record<string, unknown>;

const FACT_COLUMNS =
  'trace_id, span_id, parent_span_id, kind, start_ns, end_ns, service_name, status_code, task_id, method, tool, ' +
  'fingerprint, error_type, arguments, input_tokens, output_tokens, auth_outcome, auth_reason, auth_side, ' +
  'feedback_verdict, feedback_note';

const str = (value: unknown): string => String(value);
const nullableStr = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
const big = (value: unknown): bigint => (typeof value === 'bigint' ? value : BigInt(String(value)));
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
const varcharList = (values: readonly string[]) => listValue([...values]);
const VARCHAR_LIST = LIST(VARCHAR);
const MAX_NS = 9_223_372_036_854_775_807n;
const APPEND_SLICE_ROWS = 250;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const groupByTrace = (facts: Iterable<SpanFacts>): Map<string, SpanFacts[]> => {
  const byTrace = new Map<string, SpanFacts[]>();
  for (const fact of facts) {
    const list = byTrace.get(fact.traceId);
    if (list === undefined) byTrace.set(fact.traceId, [fact]);
    else list.push(fact);
  }
  return byTrace;
};
const boundsOf = (traces: readonly TraceRow[]): { low: bigint; high: bigint } => {
  let low = traces[0]?.minStartNs ?? 0n;
  let high = traces[0]?.maxEndNs ?? 0n;
  for (const trace of traces) {
    if (trace.minStartNs < low) low = trace.minStartNs;
    if (trace.maxEndNs > high) high = trace.maxEndNs;
  }
  return { low, high };
};

const factsFromRow = (row: Row): SpanFacts => ({
  traceId: str(row.trace_id),
  spanId: str(row.span_id),
  parentSpanId: nullableStr(row.parent_span_id),
  kind: str(row.kind) as SpanFacts['kind'],
  startNs: big(row.start_ns),
  endNs: big(row.end_ns),
  serviceName: str(row.service_name),
  statusError: row.status_code === 'error',
  taskId: nullableStr(row.task_id),
  method: nullableStr(row.method),
  tool: nullableStr(row.tool),
  fingerprint: nullableStr(row.fingerprint),
  errorType: nullableStr(row.error_type),
  arguments: nullableStr(row.arguments),
  inputTokens: tokenCountOf(row.input_tokens),
  outputTokens: tokenCountOf(row.output_tokens),
  authOutcome: nullableStr(row.auth_outcome),
  authReason: nullableStr(row.auth_reason),
  authSide: nullableStr(row.auth_side),
  feedbackVerdict: nullableStr(row.feedback_verdict),
  feedbackNote: nullableStr(row.feedback_note),
});

const ROOT_STATES: readonly RootState[] = ['none', 'ok', 'failed'];

/** A stored task row as the rollup wrote it (`root_state` set). */
const taskRollupFromRow = (row: Row): TaskRollup => ({
  taskId: str(row.task_id),
  traceIds: strings(row.trace_ids),
  outcome: str(row.outcome) as TaskOutcome,
  startNs: big(row.start_ns),
  endNs: big(row.end_ns),
  durationMs: Number(row.duration_ms),
  services: strings(row.services),
  tools: strings(row.tools),
  toolCalls: Number(row.tool_calls),
  failedCalls: Number(row.failed_calls),
  retries: Number(row.retries),
  inputTokens: Number(row.input_tokens),
  outputTokens: Number(row.output_tokens),
  authFailures: Number(row.auth_failures),
  rootState: ROOT_STATES.find((state) => state === row.root_state) ?? 'none',
});

const callFromRow = (row: Row): ToolCallRollup => ({
  taskId: str(row.task_id),
  traceId: str(row.trace_id),
  spanId: str(row.span_id),
  service: str(row.service),
  method: str(row.method),
  tool: str(row.tool),
  outcome: row.outcome === 'error' ? 'error' : 'success',
  errorType: nullableStr(row.error_type),
  durationMs: Number(row.duration_ms),
  arguments: nullableStr(row.arguments),
  fingerprint: nullableStr(row.fingerprint),
  retryOf: nullableStr(row.retry_of),
  startNs: big(row.start_ns),
});

const parseArguments = (text: string | null): unknown => {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

const isoFromNs = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();

const appendText = (appender: DuckDBAppender, value: string | null) =>
  value === null ? appender.appendNull() : appender.appendVarchar(value);
const appendCount = (appender: DuckDBAppender, value: number | null) =>
  value === null ? appender.appendNull() : appender.appendBigInt(BigInt(value));

/** Attribute maps hold no bigint (int64 past 2^53 is decoded as a string): the replacer-free fast path. */
const attributesText = (attributes: object): string => JSON.stringify(attributes);
const jsonText = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner));

interface TraceRow {
  traceId: string;
  taskId: string;
  minStartNs: bigint;
  maxEndNs: bigint;
  /** Spans ever stored for the trace; fewer found means retention already deleted some. */
  spanCount: number;
}

/**
 * Spans and rollups in one DuckDB file. Ingest is two steps: a commit appends a batch's new spans
 * and marks their traces pending (the exporters are answered after it), and a rollup, a moment later
 * and for many batches at once, recomputes the tasks of the pending traces in its own transaction.
 * Reads first wait for the rollup of everything acknowledged before them.
 */
export class DuckDbStore implements SpanStore {
  /** Ingest commits, retention, feedback and checkpoints, one at a time on their connection. */
  private readonly writer = new SerialQueue();
  /** Rollups, one at a time on their own connection, beside ingest commits (MVCC keeps them apart). */
  private readonly roller = new SerialQueue();
  private readonly reader = new SerialQueue();
  private open = true;
  private pending = new Map<string, PendingTrace>();
  private pendingSpans = 0;
  /** The highest ingest commit number whose traces are in `pending`. */
  private pendingSeq = 0n;
  private nextSeq = 1n;
  /** What the running rollup took: its spans count as stored until its commit is visible. */
  private rollingUp: ReadonlyMap<string, PendingTrace> | undefined;
  private rollupTimer: NodeJS.Timeout | undefined;
  private rollupRunning: Promise<void> | undefined;
  private toolStatsRows = 0;
  /** Ids the `traces` table may hold: a new trace or task is told apart without a query. */
  private readonly knownTraceIds = new IdFilter();
  private readonly knownTaskIds = new IdFilter();
  /** Traces whose rollup failed alone: by attempts so far, and those set aside until the next start. */
  private readonly failedAlone = new Map<string, number>();
  private readonly setAside = new Set<string>();
  /** Tasks past `maxTaskSpans` already reported. */
  private readonly tooLargeReported = new Set<string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writeConnection: DuckDBConnection,
    private readonly rollupConnection: DuckDBConnection,
    private readonly readConnection: DuckDBConnection,
    private readonly options: Required<
      Pick<
        DuckDbStoreOptions,
        'rollupIntervalMs' | 'rollupBatchSpans' | 'exactToolStatsLimit' | 'toolStatsCompactRows'
      >
    > &
      Pick<DuckDbStoreOptions, 'onRolledUp' | 'onRollupFailed' | 'onTraceSetAside' | 'onTaskTooLarge'> & {
        maxTaskSpans: number;
        readWaitMs: number;
        incrementalTaskSpans: number;
      },
  ) {}

  static async open({
    path,
    threads = 2,
    memoryLimit = '64MB',
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
    if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path, {
      threads: String(threads),
      memory_limit: memoryLimit,
      checkpoint_threshold: checkpointThreshold,
      // Appends arrive in time order already; keeping insertion order costs memory for nothing.
      preserve_insertion_order: 'false',
      // Hand freed memory back to the system soon: by default the allocator keeps up to 512 MiB
      // cached after large frees, which reads as resident memory the collector does not use.
      allocator_flush_threshold: '16MB',
      allocator_bulk_deallocation_flush_threshold: '32MB',
    });
    const writeConnection = await instance.connect();
    await migrate(writeConnection);
    const rollupConnection = await instance.connect();
    const readConnection = await instance.connect();
    const store = new DuckDbStore(instance, writeConnection, rollupConnection, readConnection, {
      rollupIntervalMs,
      rollupBatchSpans,
      exactToolStatsLimit,
      toolStatsCompactRows,
      ...(onRolledUp && { onRolledUp }),
      ...(onRollupFailed && { onRollupFailed }),
      ...(onTraceSetAside && { onTraceSetAside }),
      ...(onTaskTooLarge && { onTaskTooLarge }),
      maxTaskSpans,
      readWaitMs,
      incrementalTaskSpans,
    });
    await store.recoverPending();
    return store;
  }

  /** Loads the id filters, then rolls up traces acknowledged before a crash, before anything else. */
  private async recoverPending(): Promise<void> {
    // Streamed chunk by chunk: a file with millions of traces would otherwise be held twice over, as
    // one materialised result and as strings, and the allocator keeps such peaks resident.
    const traces = await this.writeConnection.stream('SELECT trace_id, task_id FROM traces');
    for (
      let chunk = await traces.fetchChunk();
      chunk !== null && chunk.rowCount > 0;
      chunk = await traces.fetchChunk()
    ) {
      chunk.visitColumnValues(0, (traceId) => this.knownTraceIds.add(String(traceId)));
      chunk.visitColumnValues(1, (taskId) => this.knownTaskIds.add(String(taskId)));
    }
    const reader = await this.writeConnection.runAndReadAll(
      'SELECT trace_id, sum(spans) AS spans, max(seq) AS seq FROM rollup_pending GROUP BY trace_id',
    );
    for (const row of reader.getRowObjectsJS()) {
      const count = Number(row.spans);
      this.pending.set(str(row.trace_id), { count });
      this.pendingSpans += count;
      const seq = big(row.seq);
      if (seq > this.pendingSeq) this.pendingSeq = seq;
    }
    this.nextSeq = this.pendingSeq + 1n;
    const stats = await this.writeConnection.runAndReadAll(
      'SELECT (SELECT count(*) FROM tool_stats) + (SELECT count(*) FROM tool_latency) AS n',
    );
    this.toolStatsRows = Number(stats.getRowObjectsJS()[0]?.n ?? 0);
    // A rollup that keeps failing is retried in the background and logged: it never keeps the collector from serving.
    if (this.pending.size > 0) await this.flushRollups().catch(() => undefined);
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Spans acknowledged whose rollup has not committed yet. */
  get pendingRollupSpans(): number {
    let spans = this.pendingSpans;
    for (const entry of this.rollingUp?.values() ?? []) spans += entry.count;
    return spans;
  }

  async schemaVersions(): Promise<number[]> {
    return this.read(async (connection) => {
      const reader = await connection.runAndReadAll('SELECT version FROM schema_migrations ORDER BY version');
      return reader.getRowObjectsJS().map((row) => Number(row.version));
    });
  }

  commit(spans: readonly SpanRecord[]): Promise<CommitResult> {
    return this.write((connection) => this.commitBatch(connection, spans));
  }

  /** Appends the batch's new spans and marks their traces pending, in one transaction. */
  private async commitBatch(
    connection: DuckDBConnection,
    spans: readonly SpanRecord[],
  ): Promise<CommitResult> {
    const unique = new Map<string, SpanRecord>();
    for (const span of spans) unique.set(spanKey(span.traceId, span.spanId), span);
    // Taken before reading the file: a rollup that commits meanwhile is either seen in the file or
    // still holds these maps.
    const pendingNow = this.pending;
    const rollingUp = this.rollingUp;
    const batchTraceIds = [...new Set([...unique.values()].map((span) => span.traceId))];
    const storedKeys = await this.loadSpanKeys(
      connection,
      await this.loadTraces(connection, 'trace_id', batchTraceIds),
    );
    const stored = [...unique.values()].filter((span) => {
      if (pendingNow.get(span.traceId)?.spanIds?.has(span.spanId) === true) return false;
      if (rollingUp?.get(span.traceId)?.spanIds?.has(span.spanId) === true) return false;
      return !storedKeys.has(spanKey(span.traceId, span.spanId));
    });
    const duplicates = spans.length - stored.length;
    if (stored.length === 0) return { stored, facts: [], duplicates };

    const newFacts = stored.map(spanFacts);
    const factsByTrace = groupByTrace(newFacts);
    const seq = this.nextSeq++;
    await connection.run('BEGIN TRANSACTION');
    try {
      await this.appendSpans(connection, stored, newFacts);
      const pendingAppender = await connection.createAppender('rollup_pending');
      for (const [traceId, facts] of factsByTrace) {
        pendingAppender.appendVarchar(traceId);
        pendingAppender.appendBigInt(BigInt(facts.length));
        pendingAppender.appendBigInt(seq);
        pendingAppender.endRow();
      }
      pendingAppender.closeSync();
      await this.appendSpanFeedback(connection, newFacts);
      await connection.run('COMMIT');
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
    // Only what the file holds is pending: recorded after COMMIT, never for a rolled-back batch.
    let pendingAdded = 0;
    for (const [traceId, facts] of factsByTrace) {
      // A trace set aside stays marked in the file for the next start, and out of every rollup until then.
      if (this.setAside.has(traceId)) continue;
      pendingAdded += facts.length;
      const entry = this.pending.get(traceId);
      if (entry === undefined) {
        this.pending.set(traceId, {
          count: facts.length,
          facts,
          spanIds: new Set(facts.map((fact) => fact.spanId)),
        });
      } else {
        entry.count += facts.length;
        if (entry.facts !== undefined && entry.spanIds !== undefined) {
          for (const fact of facts) entry.facts.push(fact);
          for (const fact of facts) entry.spanIds.add(fact.spanId);
        }
      }
    }
    this.pendingSpans += pendingAdded;
    this.pendingSeq = seq;
    this.scheduleRollup();
    return { stored, facts: newFacts, duplicates };
  }

  private scheduleRollup() {
    if (!this.open || this.rollupRunning !== undefined) return;
    if (this.pendingSpans >= this.options.rollupBatchSpans) {
      clearTimeout(this.rollupTimer);
      this.rollupTimer = undefined;
      void this.flushRollups().catch(() => undefined);
    } else if (this.rollupTimer === undefined && this.pending.size > 0) {
      this.rollupTimer = setTimeout(() => {
        this.rollupTimer = undefined;
        void this.flushRollups().catch(() => undefined);
      }, this.options.rollupIntervalMs);
    }
  }

  /** Rolls up every trace acknowledged so far; resolves once their tasks are committed. */
  flushRollups(): Promise<void> {
    const running = this.rollupRunning ?? Promise.resolve();
    // One rollup at a time; a flush during one waits for it and then takes what arrived meanwhile.
    const next = running
      .catch(() => undefined)
      .then(async () => {
        if (this.pending.size === 0 || !this.open) return;
        await this.roller.run(() => this.rollUpPending(this.rollupConnection));
      });
    const tracked: Promise<void> = next.finally(() => {
      if (this.rollupRunning === tracked) this.rollupRunning = undefined;
      this.scheduleRollup();
    });
    this.rollupRunning = tracked;
    return tracked;
  }

  /**
   * Reads see every acknowledged span's rollup: they wait for one when spans are pending, for at most
   * `readWaitMs` (a rollup of a very large task takes seconds), then answer from the rollups committed
   * so far. A failed rollup is logged and retried; reads do not wait for the retry either.
   */
  private async caughtUp(): Promise<void> {
    if (this.pending.size === 0 && this.rollupRunning === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flushRollups().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.readWaitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private async rollUpPending(connection: DuckDBConnection): Promise<void> {
    clearTimeout(this.rollupTimer);
    this.rollupTimer = undefined;
    const pending = this.pending;
    const throughSeq = this.pendingSeq;
    if (pending.size === 0) return;
    this.pending = new Map();
    this.pendingSpans = 0;
    this.rollingUp = pending;
    let result: RollupResult;
    const started = process.hrtime.bigint();
    try {
      result = await this.rollUpTraces(connection, pending, throughSeq);
      this.rollingUp = undefined;
      if (this.failedAlone.size > 0) for (const traceId of pending.keys()) this.failedAlone.delete(traceId);
    } catch (error) {
      // One trace whose rollup always fails must not hold every other up: each is tried alone.
      const alone = pending.size > 1 ? await this.rollUpOneByOne(connection, pending, throughSeq) : undefined;
      this.rollingUp = undefined;
      if (alone === undefined || alone.failed.size === pending.size) {
        // Nothing rolled up, so nothing points at one trace: all are tried again a little later.
        this.retryLater(pending);
        this.report(() => this.options.onRollupFailed?.(error));
        throw error;
      }
      result = alone.result;
      const retry = new Map<string, PendingTrace>();
      for (const [traceId, failure] of alone.failed) {
        const attempts = (this.failedAlone.get(traceId) ?? 0) + 1;
        if (attempts < ROLLUP_ATTEMPTS_BEFORE_SET_ASIDE) {
          this.failedAlone.set(traceId, attempts);
          retry.set(traceId, pending.get(traceId) as PendingTrace);
          this.report(() => this.options.onRollupFailed?.(failure));
        } else {
          this.failedAlone.delete(traceId);
          this.setAside.add(traceId);
          this.report(() => this.options.onTraceSetAside?.(traceId, failure));
        }
      }
      this.retryLater(retry);
    }
    this.report(() => this.options.onRolledUp?.(result, Number(process.hrtime.bigint() - started) / 1e9));
  }

  /** Reporting (logs, metrics) cannot change what happened. */
  private report(tell: () => void): void {
    try {
      tell();
    } catch {
      // nothing to do
    }
  }

  /** Puts traces back into `pending` (spans committed since stay merged in) and tries again a little later. */
  private retryLater(traces: Map<string, PendingTrace>): void {
    for (const [traceId, entry] of this.pending) {
      const earlier = traces.get(traceId);
      if (earlier === undefined) traces.set(traceId, entry);
      else {
        earlier.count += entry.count;
        if (earlier.facts !== undefined && entry.facts !== undefined)
          for (const fact of entry.facts) earlier.facts.push(fact);
        else delete earlier.facts;
        if (earlier.spanIds !== undefined && entry.spanIds !== undefined)
          for (const id of entry.spanIds) earlier.spanIds.add(id);
        else delete earlier.spanIds;
      }
    }
    this.pending = traces;
    let spans = 0;
    for (const entry of traces.values()) spans += entry.count;
    this.pendingSpans = spans;
    if (this.open && this.rollupTimer === undefined && traces.size > 0) {
      this.rollupTimer = setTimeout(() => {
        this.rollupTimer = undefined;
        void this.flushRollups().catch(() => undefined);
      }, ROLLUP_RETRY_MS);
    }
  }

  /** Each trace in its own transaction, after a rollup of them all failed: which ones fail alone? */
  private async rollUpOneByOne(
    connection: DuckDBConnection,
    pending: ReadonlyMap<string, PendingTrace>,
    throughSeq: bigint,
  ): Promise<{ result: RollupResult; failed: Map<string, unknown> }> {
    const result: RollupResult = { touchedTasks: [], removedTaskIds: [], newRetries: [] };
    const failed = new Map<string, unknown>();
    let succeeded = 0;
    for (const [traceId, entry] of pending) {
      // The first traces all failing too is a failure of everything (a full disk): stop trying.
      if (succeeded === 0 && failed.size >= ISOLATION_PROBES) {
        const first: unknown = failed.values().next().value;
        for (const rest of pending.keys()) if (!failed.has(rest)) failed.set(rest, first);
        break;
      }
      try {
        const one = await this.rollUpTraces(connection, new Map([[traceId, entry]]), throughSeq, traceId);
        succeeded += 1;
        this.failedAlone.delete(traceId);
        for (const task of one.touchedTasks) result.touchedTasks.push(task);
        for (const taskId of one.removedTaskIds) result.removedTaskIds.push(taskId);
        for (const call of one.newRetries) result.newRetries.push(call);
      } catch (error) {
        failed.set(traceId, error);
      }
    }
    return { result, failed };
  }

  /** Recomputes the tasks of pending traces, and clears them from `rollup_pending`, in one transaction. */
  private async rollUpTraces(
    connection: DuckDBConnection,
    pending: ReadonlyMap<string, PendingTrace>,
    /** The last ingest commit whose marks this rollup clears; later ones stay for the next. */
    throughSeq: bigint,
    /** When the rollup takes this one trace alone: only its marks are cleared. */
    onlyTraceId?: string,
  ): Promise<RollupResult> {
    const batchTraceIds = [...pending.keys()];
    const knownTraces = await this.loadTraces(connection, 'trace_id', batchTraceIds);
    const knownById = new Map(knownTraces.map((trace) => [trace.traceId, trace]));
    // Pending spans are in the file too. Traces found pending at start-up have no facts in memory:
    // all their spans are read, wherever in time the new ones fall. The others read what is
    // within their known bounds and merge, by key, what is kept in memory.
    const recovered = new Set(batchTraceIds.filter((traceId) => pending.get(traceId)?.facts === undefined));
    const factsByKey = new Map<string, SpanFacts>();
    for (const facts of [
      ...(await this.loadFacts(
        connection,
        knownTraces.filter((trace) => !recovered.has(trace.traceId)),
      )),
      ...(await this.loadFactsOfTraces(connection, [...recovered])),
    ])
      factsByKey.set(spanKey(facts.traceId, facts.spanId), facts);
    for (const entry of pending.values())
      for (const facts of entry.facts ?? []) factsByKey.set(spanKey(facts.traceId, facts.spanId), facts);
    const factsByTrace = groupByTrace(factsByKey.values());

    const traceRows: TraceRow[] = [];
    const touchedTaskIds = new Set<string>();
    const incompleteTraceIds = new Set<string>();
    for (const traceId of batchTraceIds) {
      const traceFacts = factsByTrace.get(traceId) ?? [];
      const previous = knownById.get(traceId);
      const added = pending.get(traceId)?.count ?? 0;
      const complete = previous === undefined || traceFacts.length - added >= previous.spanCount;
      if (!complete) incompleteTraceIds.add(traceId);
      // Past retention the span naming the task may be gone: an incomplete trace keeps its task.
      const taskId = complete ? taskIdOfTrace(traceId, traceFacts) : previous.taskId;
      let minStartNs = previous?.minStartNs ?? traceFacts[0]?.startNs ?? 0n;
      let maxEndNs = previous?.maxEndNs ?? traceFacts[0]?.endNs ?? 0n;
      for (const facts of traceFacts) {
        if (facts.startNs < minStartNs) minStartNs = facts.startNs;
        if (facts.endNs > maxEndNs) maxEndNs = facts.endNs;
      }
      traceRows.push({
        traceId,
        taskId,
        minStartNs,
        maxEndNs,
        spanCount: (previous?.spanCount ?? 0) + added,
      });
      touchedTaskIds.add(taskId);
      // A late span can name the task of a trace that was its own task until now.
      if (previous !== undefined && previous.taskId !== taskId) touchedTaskIds.add(previous.taskId);
    }

    // A task the filter has never seen has no stored trace: its traces are all in this batch, and
    // finding them needs no scan of the `traces` table.
    const newTaskIds = new Set([...touchedTaskIds].filter((taskId) => !this.knownTaskIds.mayHave(taskId)));
    // Added before the rows exist: reading the tasks' traces below must find them, and an id the
    // filter holds in vain only costs a query.
    for (const trace of traceRows) {
      this.knownTraceIds.add(trace.traceId);
      this.knownTaskIds.add(trace.taskId);
    }
    await connection.run('BEGIN TRANSACTION');
    try {
      if (knownTraces.length > 0)
        await connection.run(
          'DELETE FROM traces WHERE trace_id IN (SELECT unnest($ids))',
          { ids: varcharList(knownTraces.map((trace) => trace.traceId)) },
          { ids: VARCHAR_LIST },
        );
      await this.appendTraces(connection, traceRows);
      const result = await this.rollUpTasks(
        connection,
        [...touchedTaskIds],
        traceRows.filter((trace) => newTaskIds.has(trace.taskId)),
        factsByTrace,
        new Set(batchTraceIds.filter((traceId) => !knownById.has(traceId))),
        knownTraces.map((trace) => trace.taskId),
        incompleteTraceIds,
      );
      await this.clearPendingMarks(connection, throughSeq, onlyTraceId);
      await connection.run('COMMIT');
      return result;
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Clears the marks of rolled-up traces; a trace set aside keeps its marks for the next start. */
  private async clearPendingMarks(
    connection: DuckDBConnection,
    throughSeq: bigint,
    onlyTraceId: string | undefined,
  ): Promise<void> {
    if (onlyTraceId !== undefined)
      await connection.run('DELETE FROM rollup_pending WHERE seq <= $seq AND trace_id = $traceId', {
        seq: throughSeq,
        traceId: onlyTraceId,
      });
    else if (this.setAside.size === 0)
      await connection.run('DELETE FROM rollup_pending WHERE seq <= $seq', { seq: throughSeq });
    else
      await connection.run(
        'DELETE FROM rollup_pending WHERE seq <= $seq AND trace_id NOT IN (SELECT unnest($kept))',
        { seq: throughSeq, kept: varcharList([...this.setAside]) },
        { seq: BIGINT, kept: VARCHAR_LIST },
      );
  }

  /** Ids of the stored spans of these traces, for duplicate detection. */
  private async loadSpanKeys(
    connection: DuckDBConnection,
    traces: readonly TraceRow[],
  ): Promise<Set<string>> {
    const keys = new Set<string>();
    if (traces.length === 0) return keys;
    const { low, high } = boundsOf(traces);
    const reader = await connection.runAndReadAll(
      'SELECT trace_id, span_id FROM spans WHERE start_ns BETWEEN $low AND $high AND trace_id IN (SELECT unnest($ids))',
      { low, high, ids: varcharList(traces.map((trace) => trace.traceId)) },
      { ids: VARCHAR_LIST },
    );
    for (const [traceId, spanId] of reader.getRowsJS()) keys.add(spanKey(String(traceId), String(spanId)));
    return keys;
  }

  /** Facts of every stored span of traces whose time bounds are unknown (pending at start-up). */
  private async loadFactsOfTraces(connection: DuckDBConnection, traceIds: readonly string[]) {
    if (traceIds.length === 0) return [];
    const reader = await connection.runAndReadAll(
      `SELECT ${FACT_COLUMNS} FROM spans WHERE trace_id IN (SELECT unnest($ids))`,
      { ids: varcharList(traceIds) },
      { ids: VARCHAR_LIST },
    );
    return reader.getRowObjectsJS().map(factsFromRow);
  }

  private async loadTraces(
    connection: DuckDBConnection,
    by: 'trace_id' | 'task_id',
    candidates: readonly string[],
  ) {
    const filter = by === 'trace_id' ? this.knownTraceIds : this.knownTaskIds;
    const ids = candidates.filter((id) => filter.mayHave(id));
    if (ids.length === 0) return [];
    const reader = await connection.runAndReadAll(
      `SELECT trace_id, task_id, min_start_ns, max_end_ns, span_count FROM traces WHERE ${by} IN (SELECT unnest($ids))`,
      { ids: varcharList(ids) },
      { ids: LIST(VARCHAR) },
    );
    return reader.getRowObjectsJS().map((row): TraceRow => ({
      traceId: str(row.trace_id),
      taskId: str(row.task_id),
      minStartNs: big(row.min_start_ns),
      maxEndNs: big(row.max_end_ns),
      spanCount: Number(row.span_count ?? 0),
    }));
  }

  /** Facts of every stored span of these traces; the time bounds let DuckDB skip row groups. */
  private async loadFacts(connection: DuckDBConnection, traces: readonly TraceRow[]): Promise<SpanFacts[]> {
    if (traces.length === 0) return [];
    const { low, high } = boundsOf(traces);
    const reader = await connection.runAndReadAll(
      `SELECT ${FACT_COLUMNS} FROM spans WHERE start_ns BETWEEN $low AND $high AND trace_id IN (SELECT unnest($ids))`,
      { low, high, ids: varcharList(traces.map((trace) => trace.traceId)) },
      { ids: LIST(VARCHAR) },
    );
    const unique = new Map<string, SpanFacts>();
    for (const row of reader.getRowObjectsJS()) {
      const facts = factsFromRow(row);
      unique.set(spanKey(facts.traceId, facts.spanId), facts);
    }
    return [...unique.values()];
  }

  private async appendSpans(
    connection: DuckDBConnection,
    spans: readonly SpanRecord[],
    facts: readonly SpanFacts[],
  ) {
    const appender = await connection.createAppender('spans');
    const ingestedMs = BigInt(Date.now());
    // Spans of one request share their resource object: serialise it once.
    const resources = new Map<object, string>();
    const resourceText = (resource: object): string => {
      let text = resources.get(resource);
      if (text === undefined) resources.set(resource, (text = attributesText(resource)));
      return text;
    };
    for (const [index, span] of spans.entries()) {
      // Appender calls run on the JavaScript thread: let other work in between slices of a batch.
      if (index > 0 && index % APPEND_SLICE_ROWS === 0) await yieldToEventLoop();
      const spanFacts = facts[index] as SpanFacts;
      appender.appendVarchar(span.traceId);
      appender.appendVarchar(span.spanId);
      appendText(appender, span.parentSpanId);
      appender.appendVarchar(span.name);
      appender.appendVarchar(span.kind);
      appender.appendBigInt(span.startTimeUnixNano);
      appender.appendBigInt(span.endTimeUnixNano);
      appender.appendVarchar(span.statusCode);
      appender.appendVarchar(span.statusMessage);
      appender.appendVarchar(span.serviceName);
      appender.appendVarchar(span.scopeName);
      appender.appendVarchar(attributesText(span.attributes));
      appender.appendVarchar(resourceText(span.resourceAttributes));
      appender.appendVarchar(span.events.length === 0 ? '[]' : jsonText(span.events));
      appender.appendVarchar(span.links.length === 0 ? '[]' : jsonText(span.links));
      appendText(appender, spanFacts.taskId);
      appendText(appender, spanFacts.method);
      appendText(appender, spanFacts.tool);
      appendText(appender, spanFacts.fingerprint);
      appendText(appender, spanFacts.errorType);
      appendText(appender, spanFacts.arguments);
      appendCount(appender, spanFacts.inputTokens);
      appendCount(appender, spanFacts.outputTokens);
      appendText(appender, spanFacts.authOutcome);
      appendText(appender, spanFacts.authReason);
      appendText(appender, spanFacts.authSide);
      appendText(appender, spanFacts.feedbackVerdict);
      appendText(appender, spanFacts.feedbackNote);
      appender.appendBigInt(ingestedMs);
      appender.endRow();
    }
    appender.closeSync();
  }

  private async appendTraces(connection: DuckDBConnection, traces: readonly TraceRow[]) {
    const appender = await connection.createAppender('traces');
    for (const trace of traces) {
      appender.appendVarchar(trace.traceId);
      appender.appendVarchar(trace.taskId);
      appender.appendBigInt(trace.minStartNs);
      appender.appendBigInt(trace.maxEndNs);
      appender.appendBigInt(BigInt(trace.spanCount));
      appender.endRow();
    }
    appender.closeSync();
  }

  private async rollUpTasks(
    connection: DuckDBConnection,
    taskIds: readonly string[],
    /** Every trace of the tasks that no stored trace belonged to before this rollup. */
    tracesOfNewTasks: readonly TraceRow[],
    factsByTrace: ReadonlyMap<string, SpanFacts[]>,
    newTraceIds: ReadonlySet<string>,
    /** Tasks the batch's already-stored traces belonged to before this batch. */
    previousTaskIds: readonly string[],
    incompleteTraceIds: ReadonlySet<string>,
  ): Promise<RollupResult> {
    const newTaskIds = new Set(tracesOfNewTasks.map((trace) => trace.taskId));
    const traces = [
      ...(await this.loadTraces(
        connection,
        'task_id',
        taskIds.filter((taskId) => !newTaskIds.has(taskId)),
      )),
      ...tracesOfNewTasks,
    ];
    const extended = await this.extensibleTasks(
      connection,
      traces,
      factsByTrace,
      newTraceIds,
      new Set(previousTaskIds),
    );
    // A stored task past maxTaskSpans keeps the rollup it had: recomputing it would hold all of its
    // spans in memory at once, and read them all back at every rollup that touches it.
    const spansByTask = new Map<string, number>();
    for (const trace of traces)
      spansByTask.set(trace.taskId, (spansByTask.get(trace.taskId) ?? 0) + trace.spanCount);
    const tooLarge = new Set<string>();
    for (const [taskId, spans] of spansByTask) {
      if (spans <= this.options.maxTaskSpans || newTaskIds.has(taskId) || extended.has(taskId)) continue;
      tooLarge.add(taskId);
      if (!this.tooLargeReported.has(taskId)) {
        this.tooLargeReported.add(taskId);
        this.report(() => this.options.onTaskTooLarge?.(taskId, spans));
      }
    }
    const missing = traces.filter(
      (trace) =>
        !factsByTrace.has(trace.traceId) && !tooLarge.has(trace.taskId) && !extended.has(trace.taskId),
    );
    const allFacts = new Map(factsByTrace);
    for (const facts of await this.loadFacts(connection, missing)) {
      const list = allFacts.get(facts.traceId);
      if (list === undefined) allFacts.set(facts.traceId, [facts]);
      else list.push(facts);
    }
    // A task whose raw spans retention already deleted keeps the rollup it had: recomputing it from
    // what is left would lose calls. Its new spans are stored all the same.
    const frozenTaskIds = new Set(
      traces
        .filter(
          (trace) =>
            !extended.has(trace.taskId) &&
            (tooLarge.has(trace.taskId) ||
              incompleteTraceIds.has(trace.traceId) ||
              (allFacts.get(trace.traceId)?.length ?? 0) < trace.spanCount),
        )
        .map((trace) => trace.taskId),
    );
    const recomputedTaskIds = taskIds.filter((taskId) => !frozenTaskIds.has(taskId));
    // Only tasks with a trace stored before this batch can have rows to replace.
    const storedTaskIds = [
      ...new Set([
        ...previousTaskIds,
        ...traces.filter((trace) => !newTraceIds.has(trace.traceId)).map((trace) => trace.taskId),
      ]),
    ].filter((taskId) => !frozenTaskIds.has(taskId) && !extended.has(taskId));
    // Recomputed and extended tasks alike get a new row; only recomputed ones get their calls anew.
    const replacedTaskIds = [...storedTaskIds, ...extended.keys()];
    if (replacedTaskIds.length > 0)
      await connection.run(
        'DELETE FROM tasks WHERE task_id IN (SELECT unnest($ids))',
        { ids: varcharList(replacedTaskIds) },
        { ids: VARCHAR_LIST },
      );
    let previousCalls: ToolCallRollup[] = [];
    if (storedTaskIds.length > 0) {
      const idList = { ids: varcharList(storedTaskIds) };
      const idType = { ids: VARCHAR_LIST };
      previousCalls = (
        await connection.runAndReadAll(
          'SELECT * FROM calls WHERE task_id IN (SELECT unnest($ids))',
          idList,
          idType,
        )
      )
        .getRowObjectsJS()
        .map(callFromRow);
      await connection.run('DELETE FROM calls WHERE task_id IN (SELECT unnest($ids))', idList, idType);
    }
    const wasRetry = new Set(
      previousCalls.filter((call) => call.retryOf !== null).map((call) => call.spanId),
    );

    const tracesByTask = new Map<string, TraceRow[]>();
    for (const trace of traces) {
      const list = tracesByTask.get(trace.taskId);
      if (list === undefined) tracesByTask.set(trace.taskId, [trace]);
      else list.push(trace);
    }
    const touchedTasks: TaskRollup[] = [];
    const removedTaskIds: string[] = [];
    const calls: ToolCallRollup[] = [];
    for (const taskId of recomputedTaskIds) {
      const stored = extended.get(taskId);
      if (stored !== undefined) {
        // Only the new traces' spans: the stored ones are summed up in `stored`.
        const newFacts = (tracesByTask.get(taskId) ?? []).flatMap(
          (trace) => factsByTrace.get(trace.traceId) ?? [],
        );
        const extension = extendTask(stored, newFacts);
        touchedTasks.push(extension.task);
        for (const call of extension.calls) calls.push(call);
        continue;
      }
      const taskFacts = (tracesByTask.get(taskId) ?? []).flatMap(
        (trace) => allFacts.get(trace.traceId) ?? [],
      );
      if (!isTask(taskFacts)) {
        removedTaskIds.push(taskId);
        continue;
      }
      const rollup = rollUpTask(taskId, taskFacts);
      touchedTasks.push(rollup.task);
      // Not push(...calls): a task of some 100,000 calls would overflow the call stack.
      for (const call of rollup.calls) calls.push(call);
    }
    await this.appendTasks(connection, touchedTasks);
    await this.appendCalls(connection, calls);
    await this.appendToolStats(connection, calls, previousCalls);
    const newRetries = calls.filter((call) => call.retryOf !== null && !wasRetry.has(call.spanId));
    return { touchedTasks, removedTaskIds, newRetries };
  }

  /**
   * Stored tasks of at least `incrementalTaskSpans` spans that this rollup can extend instead of
   * recomputing: every trace of theirs in the batch is new (no stored trace joined or left them) and
   * starts after their stored end, and their row says how their earliest root ended.
   */
  private async extensibleTasks(
    connection: DuckDBConnection,
    traces: readonly TraceRow[],
    factsByTrace: ReadonlyMap<string, SpanFacts[]>,
    newTraceIds: ReadonlySet<string>,
    previousTaskIds: ReadonlySet<string>,
  ): Promise<Map<string, StoredTask>> {
    const extensible = new Map<string, StoredTask>();
    const storedSpans = new Map<string, number>();
    const earliestNewStart = new Map<string, bigint>();
    const blocked = new Set<string>();
    for (const trace of traces) {
      const batchFacts = factsByTrace.get(trace.traceId);
      if (batchFacts === undefined) {
        storedSpans.set(trace.taskId, (storedSpans.get(trace.taskId) ?? 0) + trace.spanCount);
        continue;
      }
      if (!newTraceIds.has(trace.traceId)) blocked.add(trace.taskId);
      for (const facts of batchFacts) {
        const earliest = earliestNewStart.get(trace.taskId);
        if (earliest === undefined || facts.startNs < earliest)
          earliestNewStart.set(trace.taskId, facts.startNs);
      }
    }
    const candidates = [...storedSpans]
      .filter(
        ([taskId, spans]) =>
          // Only tasks with a stored trace are here: a new task is never extended.
          spans >= this.options.incrementalTaskSpans &&
          earliestNewStart.has(taskId) &&
          !blocked.has(taskId) &&
          !previousTaskIds.has(taskId),
      )
      .map(([taskId]) => taskId);
    if (candidates.length === 0) return extensible;
    const ids = { ids: varcharList(candidates) };
    const idType = { ids: VARCHAR_LIST };
    const rows = (
      await connection.runAndReadAll(
        'SELECT * FROM tasks WHERE task_id IN (SELECT unnest($ids)) AND root_state IS NOT NULL',
        ids,
        idType,
      )
    ).getRowObjectsJS();
    for (const row of rows) {
      const task = taskRollupFromRow(row);
      if ((earliestNewStart.get(task.taskId) ?? 0n) > task.endNs)
        extensible.set(task.taskId, { task, lastAttempts: new Map(), ungroupedFailed: false });
    }
    if (extensible.size === 0) return extensible;
    // The last attempt of every group, and any failed call without a fingerprint (always final).
    const attempts = (
      await connection.runAndReadAll(
        `SELECT task_id, service, tool, fingerprint, span_id, outcome FROM calls
         WHERE task_id IN (SELECT unnest($ids)) AND (fingerprint IS NOT NULL OR outcome = 'error')
         QUALIFY fingerprint IS NULL
           OR row_number() OVER (PARTITION BY task_id, service, tool, fingerprint ORDER BY start_ns DESC, span_id DESC) = 1`,
        { ids: varcharList([...extensible.keys()]) },
        idType,
      )
    ).getRowObjectsJS();
    for (const row of attempts) {
      const stored = extensible.get(str(row.task_id));
      if (stored === undefined) continue;
      const fingerprint = nullableStr(row.fingerprint);
      if (fingerprint === null) {
        stored.ungroupedFailed = true;
        continue;
      }
      stored.lastAttempts.set(attemptGroup({ service: str(row.service), tool: str(row.tool), fingerprint }), {
        spanId: str(row.span_id),
        outcome: row.outcome === 'error' ? 'error' : 'success',
      });
    }
    return extensible;
  }

  private async appendTasks(connection: DuckDBConnection, tasks: readonly TaskRollup[]) {
    const appender = await connection.createAppender('tasks');
    const updatedMs = BigInt(Date.now());
    for (const task of tasks) {
      appender.appendVarchar(task.taskId);
      appender.appendList(task.traceIds, VARCHAR_LIST);
      appender.appendVarchar(task.outcome);
      appender.appendBigInt(task.startNs);
      appender.appendBigInt(task.endNs);
      appender.appendDouble(task.durationMs);
      appender.appendList(task.services, VARCHAR_LIST);
      appender.appendList(task.tools, VARCHAR_LIST);
      appender.appendInteger(task.toolCalls);
      appender.appendInteger(task.failedCalls);
      appender.appendInteger(task.retries);
      appender.appendBigInt(BigInt(task.inputTokens));
      appender.appendBigInt(BigInt(task.outputTokens));
      appender.appendInteger(task.authFailures);
      appender.appendBigInt(updatedMs);
      appender.appendVarchar(task.rootState);
      appender.endRow();
    }
    appender.closeSync();
  }

  private async appendCalls(connection: DuckDBConnection, calls: readonly ToolCallRollup[]) {
    const appender = await connection.createAppender('calls');
    for (const call of calls) {
      appender.appendVarchar(call.taskId);
      appender.appendVarchar(call.traceId);
      appender.appendVarchar(call.spanId);
      appender.appendVarchar(call.service);
      appender.appendVarchar(call.method);
      appender.appendVarchar(call.tool);
      appender.appendVarchar(call.outcome);
      appendText(appender, call.errorType);
      appender.appendDouble(call.durationMs);
      appendText(appender, call.arguments);
      appendText(appender, call.fingerprint);
      appendText(appender, call.retryOf);
      appender.appendBigInt(call.startNs);
      appender.endRow();
    }
    appender.closeSync();
  }

  /** Verdicts an evaluator sent on spans, kept by trace: the task is the trace's when read. */
  private async appendSpanFeedback(connection: DuckDBConnection, facts: readonly SpanFacts[]) {
    const verdicts = facts.filter((span) => span.feedbackVerdict !== null);
    if (verdicts.length === 0) return;
    const appender = await connection.createAppender('span_feedback');
    for (const span of verdicts) {
      appender.appendVarchar(span.traceId);
      appender.appendVarchar(span.feedbackVerdict as string);
      appendText(appender, span.feedbackNote);
      appender.appendBigInt(span.endNs / 1_000_000n);
      appender.endRow();
    }
    appender.closeSync();
  }

  /** Appends what calls added to and removed from the per-minute tool stats and hourly latencies. */
  private async appendToolStats(
    connection: DuckDBConnection,
    added: readonly ToolCallRollup[],
    removed: readonly ToolCallRollup[],
  ) {
    const counts = new Map<
      string,
      { row: readonly [bigint, string, string, string | null]; calls: number; retries: number }
    >();
    const latencies = new Map<string, { row: readonly [bigint, string, number]; calls: number }>();
    const tally = (call: ToolCallRollup, sign: 1 | -1) => {
      const minuteMs = BigInt(minuteOf(call.startNs));
      const errorType = call.outcome === 'error' ? (call.errorType ?? 'error') : null;
      const countKey = `${minuteMs}\u0000${call.tool}\u0000${call.service}\u0000${errorType ?? ''}`;
      const count = counts.get(countKey) ?? {
        row: [minuteMs, call.tool, call.service, errorType] as const,
        calls: 0,
        retries: 0,
      };
      count.calls += sign;
      if (call.retryOf !== null) count.retries += sign;
      counts.set(countKey, count);
      const hourMs = (call.startNs / HOUR_NS) * 3_600_000n;
      const bucket = latencyBucket(call.durationMs);
      const latencyKey = `${hourMs}\u0000${call.tool}\u0000${bucket}`;
      const latency = latencies.get(latencyKey) ?? { row: [hourMs, call.tool, bucket] as const, calls: 0 };
      latency.calls += sign;
      latencies.set(latencyKey, latency);
    };
    for (const call of removed) tally(call, -1);
    for (const call of added) tally(call, 1);
    const changedCounts = [...counts.values()].filter((count) => count.calls !== 0 || count.retries !== 0);
    const changedLatencies = [...latencies.values()].filter((latency) => latency.calls !== 0);
    if (changedCounts.length > 0) {
      const appender = await connection.createAppender('tool_stats');
      for (const {
        row: [minuteMs, tool, service, errorType],
        calls,
        retries,
      } of changedCounts) {
        appender.appendBigInt(minuteMs);
        appender.appendVarchar(tool);
        appender.appendVarchar(service);
        appendText(appender, errorType);
        appender.appendBigInt(BigInt(calls));
        appender.appendBigInt(BigInt(retries));
        appender.endRow();
      }
      appender.closeSync();
    }
    if (changedLatencies.length > 0) {
      const appender = await connection.createAppender('tool_latency');
      for (const {
        row: [hourMs, tool, bucket],
        calls,
      } of changedLatencies) {
        appender.appendBigInt(hourMs);
        appender.appendVarchar(tool);
        appender.appendInteger(bucket);
        appender.appendBigInt(BigInt(calls));
        appender.endRow();
      }
      appender.closeSync();
    }
    this.toolStatsRows += changedCounts.length + changedLatencies.length;
  }

  listTasks(query: TaskQuery): Promise<TaskPage> {
    return this.read(async (connection) => {
      const conditions: string[] = [];
      const values: Record<string, bigint | string | number> = {};
      if (query.fromMs !== undefined) {
        conditions.push('t.start_ns >= $from');
        values.from = BigInt(query.fromMs) * 1_000_000n;
      }
      if (query.toMs !== undefined) {
        conditions.push('t.start_ns < $to');
        values.to = BigInt(query.toMs) * 1_000_000n;
      }
      if (query.outcome !== undefined) {
        conditions.push('t.outcome = $outcome');
        values.outcome = query.outcome;
      }
      if (query.service !== undefined) {
        conditions.push('list_contains(t.services, $service)');
        values.service = query.service;
      }
      if (query.tool !== undefined) {
        conditions.push('list_contains(t.tools, $tool)');
        values.tool = query.tool;
      }
      if (query.after !== undefined) {
        conditions.push(
          '(t.start_ns < $afterStart OR (t.start_ns = $afterStart AND t.task_id < $afterTask))',
        );
        values.afterStart = query.after.startNs;
        values.afterTask = query.after.taskId;
      }
      values.limit = query.limit;
      values.offset = query.offset ?? 0;
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      const reader = await connection.runAndReadAll(
        withFeedback(
          `SELECT * FROM tasks t ${where} ORDER BY t.start_ns DESC, t.task_id DESC LIMIT $limit OFFSET $offset`,
          'ORDER BY t.start_ns DESC, t.task_id DESC',
        ),
        values,
      );
      const rows = reader.getRowObjectsJS();
      const lastRow = rows.at(-1);
      return {
        tasks: rows.map(taskFromRow),
        last:
          rows.length === query.limit && lastRow !== undefined
            ? { startNs: big(lastRow.start_ns), taskId: str(lastRow.task_id) }
            : null,
      };
    });
  }

  getTask(taskId: string): Promise<TaskDetail | null> {
    return this.read(async (connection) => {
      const taskRows = (
        await connection.runAndReadAll(withFeedback('SELECT * FROM tasks t WHERE t.task_id = $taskId'), {
          taskId,
        })
      ).getRowObjectsJS();
      const taskRow = taskRows[0];
      if (taskRow === undefined) return null;
      const callRows = (
        await connection.runAndReadAll(
          // Every call starts inside its task: the time bounds let DuckDB skip the row groups
          // outside them instead of comparing the task id of every stored call.
          `SELECT * FROM calls WHERE task_id = $taskId AND start_ns BETWEEN $startNs AND $endNs
           ORDER BY start_ns, span_id`,
          { taskId, startNs: big(taskRow.start_ns), endNs: big(taskRow.end_ns) },
        )
      ).getRowObjectsJS();
      return {
        task: taskFromRow(taskRow),
        calls: callRows.map(callFromRow).map((call): ToolCallView => ({
          spanId: call.spanId,
          traceId: call.traceId,
          service: call.service,
          method: call.method,
          tool: call.tool,
          outcome: call.outcome,
          errorType: call.errorType,
          durationMs: call.durationMs,
          arguments: parseArguments(call.arguments),
          retryOf: call.retryOf,
        })),
      };
    });
  }

  /**
   * Per-tool summaries over a range. When the range holds few enough calls, everything is computed
   * exactly from the calls themselves; otherwise counts come from the per-minute tool stats (minutes
   * that start in the range) and percentiles from the hourly latency histograms of the hours the
   * range touches (each within 1% of the exact percentile over those hours).
   */
  listTools({ fromMs, toMs }: TimeRange): Promise<ToolSummary[]> {
    return this.read(async (connection) => {
      const range = {
        from: BigInt(Math.floor((fromMs ?? 0) / 60_000) * 60_000),
        to: toMs === undefined ? MAX_NS : BigInt(Math.ceil(toMs)),
      };
      const counts = (
        await connection.runAndReadAll(
          `SELECT tool, service, error_type, sum(calls) AS calls, sum(retries) AS retries
           FROM tool_stats WHERE minute_ms >= $from AND minute_ms < $to
           GROUP BY ALL HAVING sum(calls) <> 0 OR sum(retries) <> 0`,
          range,
        )
      ).getRowObjectsJS();
      const calls = counts.reduce((sum, row) => sum + Number(row.calls), 0);
      if (calls <= this.options.exactToolStatsLimit)
        return this.exactToolSummaries(connection, { fromMs, toMs });
      // For each tool and percentile, the buckets holding the two order statistics to interpolate.
      const rank = (q: number, next: 0 | 1) => `floor((total - 1) * ${q}) + ${next}`;
      const ranks = QUANTILES.flatMap((q) =>
        ([0, 1] as const).map(
          (next) =>
            `min(bucket) FILTER (WHERE upto > least(${rank(q, next)}, total - 1)) AS b_${q * 100}_${next}`,
        ),
      );
      const buckets = (
        await connection.runAndReadAll(
          `WITH hist AS (
             SELECT tool, bucket, sum(calls) AS n FROM tool_latency
             WHERE hour_ms > $from - 3600000 AND hour_ms < $to GROUP BY ALL HAVING sum(calls) > 0
           ), cumulative AS (
             SELECT tool, bucket, sum(n) OVER (PARTITION BY tool ORDER BY bucket) AS upto,
               sum(n) OVER (PARTITION BY tool) AS total
             FROM hist
           )
           SELECT tool, any_value(total) AS total, ${ranks.join(', ')} FROM cumulative GROUP BY tool`,
          range,
        )
      ).getRowObjectsJS();
      return toolSummariesFromStats(counts, buckets);
    });
  }

  /** Tool summaries computed from every call in the range, percentiles exact. */
  private async exactToolSummaries(connection: DuckDBConnection, { fromMs, toMs }: TimeRange) {
    {
      const values = {
        from: BigInt(fromMs ?? 0) * 1_000_000n,
        to: toMs === undefined ? MAX_NS : BigInt(toMs) * 1_000_000n,
      };
      const range = 'start_ns >= $from AND start_ns < $to';
      const summaries = (
        await connection.runAndReadAll(
          `SELECT tool, list(DISTINCT service ORDER BY service) AS services, count(*) AS calls,
             count(*) FILTER (WHERE outcome = 'error') AS errors, count(retry_of) AS retries,
             quantile_cont(duration_ms, 0.5) AS p50, quantile_cont(duration_ms, 0.95) AS p95,
             quantile_cont(duration_ms, 0.99) AS p99
           FROM calls WHERE ${range} GROUP BY tool ORDER BY tool`,
          values,
        )
      ).getRowObjectsJS();
      const errorRows = (
        await connection.runAndReadAll(
          `SELECT tool, coalesce(error_type, 'error') AS error_type, count(*) AS n FROM calls
           WHERE ${range} AND outcome = 'error' GROUP BY ALL`,
          values,
        )
      ).getRowObjectsJS();
      return summaries.map((row): ToolSummary => {
        const errorsByType: Record<string, number> = {};
        for (const error of errorRows) {
          if (error.tool === row.tool) errorsByType[str(error.error_type)] = Number(error.n);
        }
        return {
          tool: str(row.tool),
          services: strings(row.services),
          calls: Number(row.calls),
          errors: Number(row.errors),
          errorsByType,
          retries: Number(row.retries),
          p50Ms: Number(row.p50),
          p95Ms: Number(row.p95),
          p99Ms: Number(row.p99),
        };
      });
    }
  }

  /** Per-minute stats of one tool, aggregated from the per-call rollup (kept as long as tasks). */
  toolMinutes(tool: string, { fromMs, toMs }: TimeRange): Promise<ToolMinuteRollup[]> {
    return this.read(async (connection) => {
      const reader = await connection.runAndReadAll(
        `SELECT (start_ns // ${MINUTE_NS}) * 60000 AS minute_ms, count(*) AS calls,
           count(*) FILTER (WHERE outcome = 'error') AS errors,
           coalesce(to_json(histogram(coalesce(error_type, 'error')) FILTER (WHERE outcome = 'error')), '{}') AS errors_by_type,
           count(retry_of) AS retries, quantile_cont(duration_ms, 0.5) AS p50, quantile_cont(duration_ms, 0.95) AS p95,
           quantile_cont(duration_ms, 0.99) AS p99
         FROM calls WHERE tool = $tool AND start_ns >= $from AND start_ns < $to
         GROUP BY ALL ORDER BY minute_ms`,
        {
          tool,
          from: BigInt(fromMs ?? 0) * 1_000_000n,
          to: toMs === undefined ? MAX_NS : BigInt(toMs) * 1_000_000n,
        },
      );
      return reader.getRowObjectsJS().map((row): ToolMinuteRollup => ({
        tool,
        minuteMs: Number(row.minute_ms),
        calls: Number(row.calls),
        errors: Number(row.errors),
        errorsByType: JSON.parse(str(row.errors_by_type)) as Record<string, number>,
        retries: Number(row.retries),
        p50Ms: Number(row.p50),
        p95Ms: Number(row.p95),
        p99Ms: Number(row.p99),
      }));
    });
  }

  async recordFeedback(taskId: string, verdict: FeedbackVerdict, note: string | null): Promise<boolean> {
    await this.caughtUp();
    return this.write(async (connection) => {
      const known = await connection.runAndReadAll('SELECT 1 FROM tasks WHERE task_id = $taskId LIMIT 1', {
        taskId,
      });
      if (known.currentRowCount === 0) return false;
      const recorded = BigInt(Date.now());
      await connection.run(
        "INSERT INTO feedback VALUES ($taskId, $verdict, $note, 'api', $recorded)",
        { taskId, verdict, note, recorded },
        { note: VARCHAR },
      );
      // Only the latest verdict is ever read: earlier ones would only grow the table.
      await connection.run(
        "DELETE FROM feedback WHERE task_id = $taskId AND source = 'api' AND recorded_ms < $recorded",
        { taskId, recorded },
      );
      return true;
    });
  }

  deleteSpansEndedBefore(cutoffMs: number): Promise<number> {
    return this.write(async (connection) => {
      const result = await connection.run('DELETE FROM spans WHERE end_ns < $cutoff', {
        cutoff: BigInt(Math.trunc(cutoffMs)) * 1_000_000n,
      });
      return result.rowsChanged;
    });
  }

  /** Deletes verdicts (from the API or from spans) recorded before the cutoff. Returns the number deleted. */
  deleteFeedbackRecordedBefore(cutoffMs: number): Promise<number> {
    return this.write(async (connection) => {
      const cutoff = BigInt(Math.trunc(cutoffMs));
      const api = await connection.run('DELETE FROM feedback WHERE recorded_ms < $cutoff', { cutoff });
      const spans = await connection.run('DELETE FROM span_feedback WHERE recorded_ms < $cutoff', { cutoff });
      return api.rowsChanged + spans.rowsChanged;
    });
  }

  /** Runs between rollups: a checkpoint refuses to run beside another connection's write transaction. */
  checkpoint(): Promise<void> {
    return this.roller.run(() => this.checkpointNow());
  }

  private checkpointNow(): Promise<void> {
    return this.write(async (connection) => {
      if (this.toolStatsRows > this.options.toolStatsCompactRows) await this.compactToolStats(connection);
      await connection.run('CHECKPOINT');
    });
  }

  /** Folds the signed tool stat and latency rows into one row per key. */
  private async compactToolStats(connection: DuckDBConnection): Promise<void> {
    const fold = async (table: string, keys: string, sums: string, keep: string) => {
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE folded AS SELECT ${keys}, ${sums} FROM ${table} GROUP BY ALL HAVING ${keep}`,
      );
      await connection.run(`DELETE FROM ${table}`);
      await connection.run(`INSERT INTO ${table} BY NAME SELECT * FROM folded`);
      await connection.run('DROP TABLE folded');
    };
    await connection.run('BEGIN TRANSACTION');
    try {
      await fold(
        'tool_stats',
        'minute_ms, tool, service, error_type',
        'sum(calls) AS calls, sum(retries) AS retries',
        'sum(calls) <> 0 OR sum(retries) <> 0',
      );
      await fold('tool_latency', 'hour_ms, tool, bucket', 'sum(calls) AS calls', 'sum(calls) <> 0');
      const reader = await connection.runAndReadAll(
        'SELECT (SELECT count(*) FROM tool_stats) + (SELECT count(*) FROM tool_latency) AS n',
      );
      await connection.run('COMMIT');
      this.toolStatsRows = Number(reader.getRowObjectsJS()[0]?.n ?? 0);
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (!this.open) return;
    clearTimeout(this.rollupTimer);
    this.rollupTimer = undefined;
    // What was acknowledged is in the file either way; rolling it up now saves the next start the work.
    await this.flushRollups().catch(() => undefined);
    this.open = false;
    clearTimeout(this.rollupTimer);
    await this.roller.run(() =>
      this.writer.run(async () => {
        await this.writeConnection.run('CHECKPOINT').catch(() => undefined);
      }),
    );
    await this.reader.run(async () => undefined);
    this.readConnection.closeSync();
    this.rollupConnection.closeSync();
    this.writeConnection.closeSync();
    this.instance.closeSync();
  }

  private write<T>(operation: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (!this.open) return Promise.reject(new Error('store is closed'));
    return this.writer.run(() => operation(this.writeConnection));
  }

  private async read<T>(operation: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (!this.open) throw new Error('store is closed');
    await this.caughtUp();
    return this.reader.run(() => operation(this.readConnection));
  }
}

const QUANTILES = [0.5, 0.95, 0.99] as const;

/**
 * Summaries from per-minute tool stats: counts by (tool, service, error type), and per tool the
 * latency buckets of the order statistics around each percentile, interpolated as `quantile_cont`.
 */
const toolSummariesFromStats = (counts: readonly Row[], buckets: readonly Row[]): ToolSummary[] => {
  const summaries = new Map<string, ToolSummary & { serviceSet: Set<string> }>();
  for (const row of counts) {
    const tool = str(row.tool);
    let summary = summaries.get(tool);
    if (summary === undefined) {
      summary = {
        tool,
        services: [],
        serviceSet: new Set(),
        calls: 0,
        errors: 0,
        errorsByType: {},
        retries: 0,
        p50Ms: 0,
        p95Ms: 0,
        p99Ms: 0,
      };
      summaries.set(tool, summary);
    }
    const calls = Number(row.calls);
    if (calls !== 0) summary.serviceSet.add(str(row.service));
    summary.calls += calls;
    summary.retries += Number(row.retries);
    const errorType = nullableStr(row.error_type);
    if (errorType !== null && calls !== 0) {
      summary.errors += calls;
      summary.errorsByType[errorType] = (summary.errorsByType[errorType] ?? 0) + calls;
    }
  }
  for (const row of buckets) {
    const summary = summaries.get(str(row.tool));
    if (summary === undefined) continue;
    const total = Number(row.total);
    const percentile = (q: number): number => {
      const position = (total - 1) * q;
      const low = bucketValue(Number(row[`b_${q * 100}_0`]));
      const high = bucketValue(Number(row[`b_${q * 100}_1`]));
      return low + (position - Math.floor(position)) * (high - low);
    };
    summary.p50Ms = percentile(0.5);
    summary.p95Ms = percentile(0.95);
    summary.p99Ms = percentile(0.99);
  }
  return [...summaries.values()]
    .filter((summary) => summary.calls > 0)
    .sort((a, b) => (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0))
    .map(({ serviceSet, ...summary }) => ({
      ...summary,
      services: [...serviceSet].sort(),
      errorsByType: Object.fromEntries(Object.entries(summary.errorsByType).filter(([, count]) => count > 0)),
    }));
};

/**
 * The tasks a query selects (aliased `t`), each with its latest verdict, from the API or from an
 * evaluator's span: only the selected tasks' feedback is read, found through their own trace ids.
 */
const withFeedback = (selectTasks: string, orderBy = ''): string => `
  WITH t AS (${selectTasks}),
  verdicts AS (
    SELECT task_id, verdict, note, recorded_ms FROM feedback WHERE task_id IN (SELECT task_id FROM t)
    UNION ALL
    SELECT tt.task_id, sf.verdict, sf.note, sf.recorded_ms
    FROM (SELECT task_id, unnest(trace_ids) AS trace_id FROM t) tt JOIN span_feedback sf USING (trace_id)
  )
  SELECT t.*, f.verdict AS feedback_verdict, f.note AS feedback_note, f.recorded_ms AS feedback_recorded_ms
  FROM t
  LEFT JOIN (
    SELECT task_id, arg_max(verdict, recorded_ms) AS verdict, arg_max(note, recorded_ms) AS note,
      max(recorded_ms) AS recorded_ms
    FROM verdicts GROUP BY task_id
  ) f ON f.task_id = t.task_id
  ${orderBy}`;

const taskFromRow = (row: Row): TaskSummary => {
  const task = taskRollupFromRow(row);
  return {
    taskId: task.taskId,
    traceIds: task.traceIds,
    outcome: task.outcome,
    startTime: isoFromNs(task.startNs),
    durationMs: task.durationMs,
    services: task.services,
    toolCalls: task.toolCalls,
    failedCalls: task.failedCalls,
    retries: task.retries,
    inputTokens: task.inputTokens,
    outputTokens: task.outputTokens,
    authFailures: task.authFailures,
    feedback:
      row.feedback_verdict === null || row.feedback_verdict === undefined
        ? null
        : {
            verdict: str(row.feedback_verdict) as FeedbackVerdict,
            note: nullableStr(row.feedback_note),
            recordedAt: new Date(Number(row.feedback_recorded_ms)).toISOString(),
          },
  };
};
