import type { DuckDBConnection } from '@duckdb/node-api';
import {
  callDetailFromText,
  isPlumbingSpan,
  PLUMBING_SPAN_NAMES,
  spanKey,
  tokenCountOf,
  type SpanFacts,
} from '../../rollup/index.js';
import { IdFilter } from './id-filter.js';
import { big, idsParameter, nullableStr, str, type Row } from './values.js';

/** A row of the `traces` table: which task a trace belongs to, its time bounds, its spans. */
export interface TraceRow {
  traceId: string;
  taskId: string;
  minStartNs: bigint;
  maxEndNs: bigint;
  /** Spans ever stored for the trace; fewer found means retention already deleted some. */
  spanCount: number;
}

/** Ids the `traces` table may hold: a new trace or task is told apart without a query. */
export class KnownIds {
  readonly traces = new IdFilter();
  readonly tasks = new IdFilter();

  /** Loads every stored trace's and task's id, streamed chunk by chunk. */
  async load(connection: DuckDBConnection): Promise<void> {
    // A file with millions of traces would otherwise be held twice over, as one materialised result
    // and as strings, and the allocator keeps such peaks resident.
    const traces = await connection.stream('SELECT trace_id, task_id FROM traces');
    for (
      let chunk = await traces.fetchChunk();
      chunk !== null && chunk.rowCount > 0;
      chunk = await traces.fetchChunk()
    ) {
      chunk.visitColumnValues(0, (traceId) => this.traces.add(String(traceId)));
      chunk.visitColumnValues(1, (taskId) => this.tasks.add(String(taskId)));
    }
  }
}

/** Facts by trace, in the order given. */
export const groupByTrace = (facts: Iterable<SpanFacts>): Map<string, SpanFacts[]> => {
  const byTrace = new Map<string, SpanFacts[]>();
  for (const fact of facts) {
    const list = byTrace.get(fact.traceId);
    if (list === undefined) byTrace.set(fact.traceId, [fact]);
    else list.push(fact);
  }
  return byTrace;
};

/** The span columns the rollups read, as {@link SpanFacts}. */
const FACT_COLUMNS =
  'trace_id, span_id, parent_span_id, kind, start_ns, end_ns, service_name, status_code, task_id, method, tool, ' +
  'fingerprint, error_type, arguments, input_tokens, output_tokens, auth_outcome, auth_reason, auth_side, ' +
  'feedback_verdict, feedback_note, call_detail, task_hint, ' +
  // Only what the rules read: the scope of spans with usage (duplicate model calls), the name of spans
  // that may be plumbing; nulls cost a large task's rollup far less than every span's two texts.
  'CASE WHEN input_tokens IS NOT NULL OR output_tokens IS NOT NULL THEN scope_name END AS scope_name, ' +
  `CASE WHEN name IN (${[...PLUMBING_SPAN_NAMES].map((name) => `'${name}'`).join(', ')}) THEN scope_name END AS plumbing_scope, ` +
  `CASE WHEN name IN (${[...PLUMBING_SPAN_NAMES].map((name) => `'${name}'`).join(', ')}) THEN name END AS name`;

const factsFromRow = (row: Row): SpanFacts => ({
  traceId: str(row.trace_id),
  spanId: str(row.span_id),
  parentSpanId: nullableStr(row.parent_span_id),
  kind: str(row.kind) as SpanFacts['kind'],
  startNs: big(row.start_ns),
  endNs: big(row.end_ns),
  serviceName: str(row.service_name),
  scopeName: nullableStr(row.scope_name) ?? '',
  statusError: row.status_code === 'error',
  plumbing: row.name !== null && isPlumbingSpan(str(row.plumbing_scope), str(row.name)),
  taskId: nullableStr(row.task_id),
  taskHint: nullableStr(row.task_hint),
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
  callDetail: callDetailFromText(nullableStr(row.call_detail)),
});

const boundsOf = (traces: readonly TraceRow[]): { low: bigint; high: bigint } => {
  let low = traces[0]?.minStartNs ?? 0n;
  let high = traces[0]?.maxEndNs ?? 0n;
  for (const trace of traces) {
    if (trace.minStartNs < low) low = trace.minStartNs;
    if (trace.maxEndNs > high) high = trace.maxEndNs;
  }
  return { low, high };
};

/** Spans of these traces within their time bounds, which let DuckDB skip row groups. */
const readSpansOf = async (connection: DuckDBConnection, columns: string, traces: readonly TraceRow[]) => {
  const { low, high } = boundsOf(traces);
  const ids = idsParameter(traces.map((trace) => trace.traceId));
  return connection.runAndReadAll(
    `SELECT ${columns} FROM spans WHERE start_ns BETWEEN $low AND $high AND trace_id IN (SELECT unnest($ids))`,
    { low, high, ...ids.values },
    ids.types,
  );
};

/** Stored traces by trace or task id; ids the filter rules out cost no query. */
export const loadTraces = async (
  connection: DuckDBConnection,
  known: KnownIds,
  by: 'trace_id' | 'task_id',
  candidates: readonly string[],
): Promise<TraceRow[]> => {
  const filter = by === 'trace_id' ? known.traces : known.tasks;
  const ids = candidates.filter((id) => filter.mayHave(id));
  if (ids.length === 0) return [];
  const parameter = idsParameter(ids);
  const reader = await connection.runAndReadAll(
    `SELECT trace_id, task_id, min_start_ns, max_end_ns, span_count FROM traces WHERE ${by} IN (SELECT unnest($ids))`,
    parameter.values,
    parameter.types,
  );
  return reader.getRowObjectsJS().map((row): TraceRow => ({
    traceId: str(row.trace_id),
    taskId: str(row.task_id),
    minStartNs: big(row.min_start_ns),
    maxEndNs: big(row.max_end_ns),
    spanCount: Number(row.span_count ?? 0),
  }));
};

/** Keys ({@link spanKey}) of the stored spans of these traces, for duplicate detection. */
export const loadSpanKeys = async (
  connection: DuckDBConnection,
  traces: readonly TraceRow[],
): Promise<Set<string>> => {
  const keys = new Set<string>();
  if (traces.length === 0) return keys;
  const reader = await readSpansOf(connection, 'trace_id, span_id', traces);
  for (const [traceId, spanId] of reader.getRowsJS()) keys.add(spanKey(String(traceId), String(spanId)));
  return keys;
};

/** Facts of every stored span of these traces, each span once. */
export const loadFacts = async (
  connection: DuckDBConnection,
  traces: readonly TraceRow[],
): Promise<SpanFacts[]> => {
  if (traces.length === 0) return [];
  const reader = await readSpansOf(connection, FACT_COLUMNS, traces);
  const unique = new Map<string, SpanFacts>();
  for (const row of reader.getRowObjectsJS()) {
    const facts = factsFromRow(row);
    unique.set(spanKey(facts.traceId, facts.spanId), facts);
  }
  return [...unique.values()];
};

/** Facts of every stored span of traces whose time bounds are unknown (pending at start-up). */
export const loadFactsOfTraces = async (
  connection: DuckDBConnection,
  traceIds: readonly string[],
): Promise<SpanFacts[]> => {
  if (traceIds.length === 0) return [];
  const parameter = idsParameter(traceIds);
  const reader = await connection.runAndReadAll(
    `SELECT ${FACT_COLUMNS} FROM spans WHERE trace_id IN (SELECT unnest($ids))`,
    parameter.values,
    parameter.types,
  );
  return reader.getRowObjectsJS().map(factsFromRow);
};
