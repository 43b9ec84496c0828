import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { SpanRecord } from '../model/span.js';
import {
  rollUpTask,
  MINUTE_NS,
  spanFacts,
  spanKey,
  isTask,
  taskIdOfTrace,
  type FeedbackVerdict,
  type SpanFacts,
  type TaskOutcome,
  type TaskRollup,
  type ToolCallRollup,
  type ToolMinuteRollup,
} from '../rollup/index.js';
import { migrate } from './migrations.js';
import { SerialQueue } from './serial-queue.js';
import type {
  CommitResult,
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
}

type Row = Record<string, unknown>;

const FACT_COLUMNS =
  'trace_id, span_id, parent_span_id, kind, start_ns, end_ns, service_name, status_code, task_id, method, tool, ' +
  'fingerprint, error_type, arguments, input_tokens, output_tokens, auth_outcome, auth_reason, auth_side, ' +
  'feedback_verdict, feedback_note';

const str = (value: unknown): string => String(value);
const nullableStr = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
const nullableNum = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);
const big = (value: unknown): bigint => (typeof value === 'bigint' ? value : BigInt(String(value)));
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
const varcharList = (values: readonly string[]) => listValue([...values]);
const VARCHAR_LIST = LIST(VARCHAR);
const MAX_NS = 9_223_372_036_854_775_807n;
const APPEND_SLICE_ROWS = 250;
const countByTrace = (facts: readonly SpanFacts[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const span of facts) counts.set(span.traceId, (counts.get(span.traceId) ?? 0) + 1);
  return counts;
};
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

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
  inputTokens: nullableNum(row.input_tokens),
  outputTokens: nullableNum(row.output_tokens),
  authOutcome: nullableStr(row.auth_outcome),
  authReason: nullableStr(row.auth_reason),
  authSide: nullableStr(row.auth_side),
  feedbackVerdict: nullableStr(row.feedback_verdict),
  feedbackNote: nullableStr(row.feedback_note),
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

export class DuckDbStore implements SpanStore {
  private readonly writer = new SerialQueue();
  private readonly reader = new SerialQueue();
  private open = true;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writeConnection: DuckDBConnection,
    private readonly readConnection: DuckDBConnection,
  ) {}

  static async open({
    path,
    threads = 2,
    memoryLimit = '512MB',
    checkpointThreshold = '256MB',
  }: DuckDbStoreOptions): Promise<DuckDbStore> {
    if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path, {
      threads: String(threads),
      memory_limit: memoryLimit,
      checkpoint_threshold: checkpointThreshold,
    });
    const writeConnection = await instance.connect();
    await migrate(writeConnection);
    const readConnection = await instance.connect();
    return new DuckDbStore(instance, writeConnection, readConnection);
  }

  get isOpen(): boolean {
    return this.open;
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

  private async commitBatch(
    connection: DuckDBConnection,
    spans: readonly SpanRecord[],
  ): Promise<CommitResult> {
    const unique = new Map<string, SpanRecord>();
    for (const span of spans) unique.set(spanKey(span.traceId, span.spanId), span);
    const batchTraceIds = [...new Set([...unique.values()].map((span) => span.traceId))];
    const knownTraces = await this.loadTraces(connection, 'trace_id', batchTraceIds);
    const storedFacts = await this.loadFacts(connection, knownTraces);
    const storedKeys = new Set(storedFacts.map((facts) => spanKey(facts.traceId, facts.spanId)));
    const stored = [...unique.values()].filter((span) => !storedKeys.has(spanKey(span.traceId, span.spanId)));
    const duplicates = spans.length - stored.length;
    if (stored.length === 0)
      return { stored, duplicates, touchedTasks: [], removedTaskIds: [], newRetries: [] };

    const newFacts = stored.map(spanFacts);
    const factsByTrace = new Map<string, SpanFacts[]>();
    for (const facts of [...storedFacts, ...newFacts]) {
      const list = factsByTrace.get(facts.traceId);
      if (list === undefined) factsByTrace.set(facts.traceId, [facts]);
      else list.push(facts);
    }
    const knownById = new Map(knownTraces.map((trace) => [trace.traceId, trace]));
    const storedCount = countByTrace(storedFacts);
    const newCount = countByTrace(newFacts);
    const traceRows: TraceRow[] = [];
    const touchedTaskIds = new Set<string>();
    const incompleteTraceIds = new Set<string>();
    for (const traceId of batchTraceIds) {
      const traceFacts = factsByTrace.get(traceId) ?? [];
      const previous = knownById.get(traceId);
      const complete = previous === undefined || (storedCount.get(traceId) ?? 0) >= previous.spanCount;
      if (!complete) incompleteTraceIds.add(traceId);
      // Past retention the span naming the task may be gone: an incomplete trace keeps its task.
      const taskId = complete ? taskIdOfTrace(traceId, traceFacts) : previous.taskId;
      let minStartNs = previous?.minStartNs ?? traceFacts[0]?.startNs ?? 0n;
      let maxEndNs = previous?.maxEndNs ?? traceFacts[0]?.endNs ?? 0n;
      for (const facts of traceFacts) {
        if (facts.startNs < minStartNs) minStartNs = facts.startNs;
        if (facts.endNs > maxEndNs) maxEndNs = facts.endNs;
      }
      const spanCount = (previous?.spanCount ?? 0) + (newCount.get(traceId) ?? 0);
      traceRows.push({ traceId, taskId, minStartNs, maxEndNs, spanCount });
      touchedTaskIds.add(taskId);
      // A late span can name the task of a trace that was its own task until now.
      if (previous !== undefined && previous.taskId !== taskId) touchedTaskIds.add(previous.taskId);
    }

    await connection.run('BEGIN TRANSACTION');
    try {
      await this.appendSpans(connection, stored, newFacts);
      if (knownTraces.length > 0)
        await connection.run(
          'DELETE FROM traces WHERE trace_id IN (SELECT unnest($ids))',
          { ids: varcharList(batchTraceIds) },
          { ids: LIST(VARCHAR) },
        );
      await this.appendTraces(connection, traceRows);
      const knownTraceIds = new Set(knownTraces.map((trace) => trace.traceId));
      const newTraceIds = new Set(batchTraceIds.filter((traceId) => !knownTraceIds.has(traceId)));
      const result = await this.rollUpTasks(
        connection,
        [...touchedTaskIds],
        factsByTrace,
        newTraceIds,
        knownTraces.map((trace) => trace.taskId),
        incompleteTraceIds,
      );
      await this.appendSpanFeedback(connection, newFacts);
      await connection.run('COMMIT');
      return { stored, duplicates, ...result };
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private async loadTraces(connection: DuckDBConnection, by: 'trace_id' | 'task_id', ids: readonly string[]) {
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
    let low = traces[0]?.minStartNs ?? 0n;
    let high = traces[0]?.maxEndNs ?? 0n;
    for (const trace of traces) {
      if (trace.minStartNs < low) low = trace.minStartNs;
      if (trace.maxEndNs > high) high = trace.maxEndNs;
    }
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
      appender.appendVarchar(jsonText(span.attributes));
      appender.appendVarchar(jsonText(span.resourceAttributes));
      appender.appendVarchar(jsonText(span.events));
      appender.appendVarchar(jsonText(span.links));
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
    factsByTrace: ReadonlyMap<string, SpanFacts[]>,
    newTraceIds: ReadonlySet<string>,
    /** Tasks the batch's already-stored traces belonged to before this batch. */
    previousTaskIds: readonly string[],
    incompleteTraceIds: ReadonlySet<string>,
  ): Promise<Pick<CommitResult, 'touchedTasks' | 'removedTaskIds' | 'newRetries'>> {
    const traces = await this.loadTraces(connection, 'task_id', taskIds);
    const missing = traces.filter((trace) => !factsByTrace.has(trace.traceId));
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
            incompleteTraceIds.has(trace.traceId) ||
            (allFacts.get(trace.traceId)?.length ?? 0) < trace.spanCount,
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
    ].filter((taskId) => !frozenTaskIds.has(taskId));
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
      await connection.run('DELETE FROM tasks WHERE task_id IN (SELECT unnest($ids))', idList, idType);
      await connection.run('DELETE FROM calls WHERE task_id IN (SELECT unnest($ids))', idList, idType);
    }
    const wasRetry = new Set(
      previousCalls.filter((call) => call.retryOf !== null).map((call) => call.spanId),
    );

    const touchedTasks: TaskRollup[] = [];
    const removedTaskIds: string[] = [];
    const calls: ToolCallRollup[] = [];
    for (const taskId of recomputedTaskIds) {
      const taskFacts = traces
        .filter((trace) => trace.taskId === taskId)
        .flatMap((trace) => allFacts.get(trace.traceId) ?? []);
      if (!isTask(taskFacts)) {
        removedTaskIds.push(taskId);
        continue;
      }
      const rollup = rollUpTask(taskId, taskFacts);
      touchedTasks.push(rollup.task);
      calls.push(...rollup.calls);
    }
    await this.appendTasks(connection, touchedTasks);
    await this.appendCalls(connection, calls);
    const newRetries = calls.filter((call) => call.retryOf !== null && !wasRetry.has(call.spanId));
    return { touchedTasks, removedTaskIds, newRetries };
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

  private async appendSpanFeedback(connection: DuckDBConnection, facts: readonly SpanFacts[]) {
    const verdicts = facts.filter((span) => span.feedbackVerdict !== null);
    if (verdicts.length === 0) return;
    const traces = await this.loadTraces(
      connection,
      'trace_id',
      verdicts.map((span) => span.traceId),
    );
    const appender = await connection.createAppender('feedback');
    for (const span of verdicts) {
      const taskId = traces.find((trace) => trace.traceId === span.traceId)?.taskId ?? span.traceId;
      appender.appendVarchar(taskId);
      appender.appendVarchar(span.feedbackVerdict as string);
      appendText(appender, span.feedbackNote);
      appender.appendVarchar('span');
      appender.appendBigInt(span.endNs / 1_000_000n);
      appender.endRow();
    }
    appender.closeSync();
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
        `${TASK_SELECT} ${where} ORDER BY t.start_ns DESC, t.task_id DESC LIMIT $limit OFFSET $offset`,
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
        await connection.runAndReadAll(`${TASK_SELECT} WHERE t.task_id = $taskId`, { taskId })
      ).getRowObjectsJS();
      const taskRow = taskRows[0];
      if (taskRow === undefined) return null;
      const callRows = (
        await connection.runAndReadAll(
          'SELECT * FROM calls WHERE task_id = $taskId ORDER BY start_ns, span_id',
          {
            taskId,
          },
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

  listTools({ fromMs, toMs }: TimeRange): Promise<ToolSummary[]> {
    return this.read(async (connection) => {
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
    });
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

  recordFeedback(taskId: string, verdict: FeedbackVerdict, note: string | null): Promise<boolean> {
    return this.write(async (connection) => {
      const known = await connection.runAndReadAll('SELECT 1 FROM tasks WHERE task_id = $taskId LIMIT 1', {
        taskId,
      });
      if (known.currentRowCount === 0) return false;
      await connection.run(
        "INSERT INTO feedback VALUES ($taskId, $verdict, $note, 'api', $recorded)",
        { taskId, verdict, note, recorded: BigInt(Date.now()) },
        { note: VARCHAR },
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

  checkpoint(): Promise<void> {
    return this.write(async (connection) => {
      await connection.run('CHECKPOINT');
    });
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.writer.run(async () => {
      await this.writeConnection.run('CHECKPOINT').catch(() => undefined);
    });
    await this.reader.run(async () => undefined);
    this.readConnection.closeSync();
    this.writeConnection.closeSync();
    this.instance.closeSync();
  }

  private write<T>(operation: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (!this.open) return Promise.reject(new Error('store is closed'));
    return this.writer.run(() => operation(this.writeConnection));
  }

  private read<T>(operation: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (!this.open) return Promise.reject(new Error('store is closed'));
    return this.reader.run(() => operation(this.readConnection));
  }
}

/** Tasks with their latest verdict, from the API or from an evaluator's span. */
const TASK_SELECT = `
  SELECT t.*, f.verdict AS feedback_verdict, f.note AS feedback_note, f.recorded_ms AS feedback_recorded_ms
  FROM tasks t
  LEFT JOIN (
    SELECT task_id, arg_max(verdict, recorded_ms) AS verdict, arg_max(note, recorded_ms) AS note,
      max(recorded_ms) AS recorded_ms
    FROM feedback GROUP BY task_id
  ) f ON f.task_id = t.task_id`;

const taskFromRow = (row: Row): TaskSummary => ({
  taskId: str(row.task_id),
  traceIds: strings(row.trace_ids),
  outcome: str(row.outcome) as TaskOutcome,
  startTime: isoFromNs(big(row.start_ns)),
  durationMs: Number(row.duration_ms),
  services: strings(row.services),
  toolCalls: Number(row.tool_calls),
  failedCalls: Number(row.failed_calls),
  retries: Number(row.retries),
  inputTokens: Number(row.input_tokens),
  outputTokens: Number(row.output_tokens),
  authFailures: Number(row.auth_failures),
  feedback:
    row.feedback_verdict === null || row.feedback_verdict === undefined
      ? null
      : {
          verdict: str(row.feedback_verdict) as FeedbackVerdict,
          note: nullableStr(row.feedback_note),
          recordedAt: new Date(Number(row.feedback_recorded_ms)).toISOString(),
        },
});
