import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { SpanRecord } from '../../model/span.js';
import type {
  SpanFacts,
  StatCall,
  TaskRollup,
  ToolCallRollup,
  ToolCountDelta,
  ToolLatencyDelta,
} from '../../rollup/index.js';
import { callDetailText, toolStatDeltas } from '../../rollup/index.js';
import type { TraceRow } from './stored-spans.js';
import { VARCHAR_LIST } from './values.js';

/**
 * Every append to a table, column by column in the table's order (see the migrations). Appenders
 * are the fast way into DuckDB: prepared INSERTs are a hundred times slower.
 */

const APPEND_SLICE_ROWS = 250;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const appendText = (appender: DuckDBAppender, value: string | null) =>
  value === null ? appender.appendNull() : appender.appendVarchar(value);
const appendCount = (appender: DuckDBAppender, value: number | null) =>
  value === null ? appender.appendNull() : appender.appendBigInt(BigInt(value));

/** Attribute maps hold no bigint (int64 past 2^53 is decoded as a string): the replacer-free fast path. */
const attributesText = (attributes: object): string => JSON.stringify(attributes);
const jsonText = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner));

/** Raw spans with the facts the rollups read as columns; `facts[i]` belongs to `spans[i]`. */
export const appendSpans = async (
  connection: DuckDBConnection,
  spans: readonly SpanRecord[],
  facts: readonly SpanFacts[],
) => {
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
    appendText(appender, callDetailText(spanFacts.callDetail));
    appendText(appender, spanFacts.taskHint);
    appender.endRow();
  }
  appender.closeSync();
};

/** How one column of a table is appended from a row. */
type Column<Row> = (appender: DuckDBAppender, row: Row) => void;

const text =
  <Row>(value: (row: Row) => string): Column<Row> =>
  (appender, row) =>
    appender.appendVarchar(value(row));
const nullableText =
  <Row>(value: (row: Row) => string | null): Column<Row> =>
  (appender, row) =>
    appendText(appender, value(row));
const bigint =
  <Row>(value: (row: Row) => bigint | number): Column<Row> =>
  (appender, row) => {
    const number = value(row);
    appender.appendBigInt(typeof number === 'bigint' ? number : BigInt(number));
  };
const integer =
  <Row>(value: (row: Row) => number): Column<Row> =>
  (appender, row) =>
    appender.appendInteger(value(row));
const double =
  <Row>(value: (row: Row) => number): Column<Row> =>
  (appender, row) =>
    appender.appendDouble(value(row));
const textList =
  <Row>(value: (row: Row) => string[]): Column<Row> =>
  (appender, row) =>
    appender.appendList(value(row), VARCHAR_LIST);

/** Appends rows to a table, one column function per column in the table's order. */
const appendRows = async <Row>(
  connection: DuckDBConnection,
  table: string,
  columns: readonly Column<Row>[],
  rows: Iterable<Row>,
): Promise<void> => {
  const appender = await connection.createAppender(table);
  for (const row of rows) {
    for (const column of columns) column(appender, row);
    appender.endRow();
  }
  appender.closeSync();
};

type PendingMark = readonly [traceId: string, facts: readonly SpanFacts[]];
/** Marks traces with spans appended by one ingest commit as waiting for their rollup. */
const pendingMarkColumns = (seq: bigint): Column<PendingMark>[] => [
  text(([traceId]) => traceId),
  bigint(([, facts]) => facts.length),
  bigint(() => seq),
];

export const appendPendingMarks = (
  connection: DuckDBConnection,
  factsByTrace: ReadonlyMap<string, readonly SpanFacts[]>,
  seq: bigint,
) => appendRows(connection, 'rollup_pending', pendingMarkColumns(seq), factsByTrace);

const SPAN_FEEDBACK_COLUMNS: Column<SpanFacts>[] = [
  text((span) => span.traceId),
  text((span) => span.feedbackVerdict as string),
  nullableText((span) => span.feedbackNote),
  bigint((span) => span.endNs / 1_000_000n),
];

/** Verdicts an evaluator sent on spans, kept by trace: the task is the trace's when read. */
export const appendSpanFeedback = async (connection: DuckDBConnection, facts: readonly SpanFacts[]) => {
  const verdicts = facts.filter((span) => span.feedbackVerdict !== null);
  if (verdicts.length > 0) await appendRows(connection, 'span_feedback', SPAN_FEEDBACK_COLUMNS, verdicts);
};

const TRACE_COLUMNS: Column<TraceRow>[] = [
  text((trace) => trace.traceId),
  text((trace) => trace.taskId),
  bigint((trace) => trace.minStartNs),
  bigint((trace) => trace.maxEndNs),
  bigint((trace) => trace.spanCount),
];

export const appendTraces = (connection: DuckDBConnection, traces: readonly TraceRow[]) =>
  appendRows(connection, 'traces', TRACE_COLUMNS, traces);

const taskColumns = (updatedMs: bigint): Column<TaskRollup>[] => [
  text((task) => task.taskId),
  textList((task) => task.traceIds),
  text((task) => task.outcome),
  bigint((task) => task.startNs),
  bigint((task) => task.endNs),
  double((task) => task.durationMs),
  textList((task) => task.services),
  textList((task) => task.tools),
  integer((task) => task.toolCalls),
  integer((task) => task.failedCalls),
  integer((task) => task.retries),
  bigint((task) => task.inputTokens),
  bigint((task) => task.outputTokens),
  integer((task) => task.authFailures),
  bigint(() => updatedMs),
  text((task) => task.rootState),
];

export const appendTasks = (connection: DuckDBConnection, tasks: readonly TaskRollup[]) =>
  appendRows(connection, 'tasks', taskColumns(BigInt(Date.now())), tasks);

const CALL_COLUMNS: Column<ToolCallRollup>[] = [
  text((call) => call.taskId),
  text((call) => call.traceId),
  text((call) => call.spanId),
  text((call) => call.service),
  text((call) => call.method),
  text((call) => call.tool),
  text((call) => call.outcome),
  nullableText((call) => call.errorType),
  double((call) => call.durationMs),
  nullableText((call) => call.arguments),
  nullableText((call) => call.fingerprint),
  nullableText((call) => call.retryOf),
  bigint((call) => call.startNs),
  nullableText((call) => callDetailText(call.detail)),
];

export const appendCalls = (connection: DuckDBConnection, calls: readonly ToolCallRollup[]) =>
  appendRows(connection, 'calls', CALL_COLUMNS, calls);

const TOOL_COUNT_COLUMNS: Column<ToolCountDelta>[] = [
  bigint((count) => count.minuteMs),
  text((count) => count.tool),
  text((count) => count.service),
  nullableText((count) => count.errorType),
  bigint((count) => count.calls),
  bigint((count) => count.retries),
];

const TOOL_LATENCY_COLUMNS: Column<ToolLatencyDelta>[] = [
  bigint((latency) => latency.hourMs),
  text((latency) => latency.tool),
  integer((latency) => latency.bucket),
  bigint((latency) => latency.calls),
];

/**
 * Appends what calls added to and removed from the per-minute tool stats and hourly latencies, as
 * signed rows; returns how many rows it appended.
 */
export const appendToolStats = async (
  connection: DuckDBConnection,
  added: readonly StatCall[],
  removed: readonly StatCall[],
): Promise<number> => {
  const { counts, latencies } = toolStatDeltas(added, removed);
  if (counts.length > 0) await appendRows(connection, 'tool_stats', TOOL_COUNT_COLUMNS, counts);
  if (latencies.length > 0) await appendRows(connection, 'tool_latency', TOOL_LATENCY_COLUMNS, latencies);
  return counts.length + latencies.length;
};
