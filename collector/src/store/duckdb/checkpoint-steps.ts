import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { SpanRecord } from '../../model/span.js';
import type { CheckpointOutcome } from '../../rollup/checkpoint-conventions.js';
import { checkpointStepOf, type CheckpointStep, type StepName } from '../../rollup/checkpoint-steps.js';
import type { SpanFacts } from '../../rollup/index.js';
import { big, idsParameter, nullableStr, str, type Row } from './values.js';

/** The `checkpoint_steps` table: its append at ingest and its reads, the only place its SQL lives. */

const appendText = (appender: DuckDBAppender, value: string | null) =>
  value === null ? appender.appendNull() : appender.appendVarchar(value);
const appendMs = (appender: DuckDBAppender, value: number | null) =>
  value === null ? appender.appendNull() : appender.appendBigInt(BigInt(value));
const appendFlag = (appender: DuckDBAppender, value: boolean | null) =>
  value === null ? appender.appendNull() : appender.appendBoolean(value);

/** Appends one row per span that proposes, decides or executes (a write, a claimed checkpoint). */
export const appendCheckpointSteps = async (
  connection: DuckDBConnection,
  spans: readonly SpanRecord[],
  facts: readonly SpanFacts[],
): Promise<CheckpointStep[]> => {
  const steps = spans.flatMap((span, index) => {
    const step = checkpointStepOf(span, facts[index] as SpanFacts);
    return step === null ? [] : [step];
  });
  if (steps.length === 0) return steps;
  const appender = await connection.createAppender('checkpoint_steps');
  const ingestedMs = BigInt(Date.now());
  for (const step of steps) {
    appender.appendVarchar(step.traceId);
    appender.appendVarchar(step.spanId);
    appendText(appender, step.parentSpanId);
    appender.appendVarchar(step.step);
    appendText(appender, step.checkpointId);
    appendText(appender, step.kind);
    appendText(appender, step.tool);
    appender.appendVarchar(step.service);
    appender.appendVarchar(step.spanKind);
    appender.appendBigInt(step.startNs);
    appender.appendBigInt(step.endNs);
    appendText(appender, step.outcome);
    appendText(appender, step.reviewer);
    appendMs(appender, step.requestedAtMs);
    appendMs(appender, step.expiresAtMs);
    appendText(appender, step.mode);
    appendText(appender, step.argumentsFingerprint);
    appendText(appender, step.stateVersion);
    appendFlag(appender, step.readOnly);
    appendFlag(appender, step.destructive);
    appendFlag(appender, step.idempotent);
    appendText(appender, step.errorType);
    appender.appendBigInt(ingestedMs);
    appender.endRow();
  }
  appender.flushSync();
  appender.closeSync();
  return steps;
};

const nullableMs = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);
const nullableFlag = (value: unknown): boolean | null =>
  value === null || value === undefined ? null : Boolean(value);

const stepFromRow = (row: Row): CheckpointStep => ({
  traceId: str(row.trace_id),
  spanId: str(row.span_id),
  parentSpanId: nullableStr(row.parent_span_id),
  step: str(row.step) as StepName,
  checkpointId: nullableStr(row.checkpoint_id),
  kind: nullableStr(row.kind),
  tool: nullableStr(row.tool),
  service: str(row.service),
  spanKind: str(row.span_kind) as CheckpointStep['spanKind'],
  startNs: big(row.start_ns),
  endNs: big(row.end_ns),
  outcome: nullableStr(row.outcome) as CheckpointOutcome | null,
  reviewer: nullableStr(row.reviewer),
  requestedAtMs: nullableMs(row.requested_at_ms),
  expiresAtMs: nullableMs(row.expires_at_ms),
  mode: nullableStr(row.mode),
  argumentsFingerprint: nullableStr(row.arguments_fingerprint),
  stateVersion: nullableStr(row.state_version),
  readOnly: nullableFlag(row.read_only),
  destructive: nullableFlag(row.destructive),
  idempotent: nullableFlag(row.idempotent),
  errorType: nullableStr(row.error_type),
});

const readSteps = async (
  connection: DuckDBConnection,
  where: string,
  ids?: readonly string[],
): Promise<CheckpointStep[]> => {
  const parameter = ids === undefined ? undefined : idsParameter(ids);
  const reader = await connection.runAndReadAll(
    `SELECT * FROM checkpoint_steps WHERE ${where} ORDER BY start_ns, span_id`,
    parameter?.values,
    parameter?.types,
  );
  return reader.getRowObjectsJS().map(stepFromRow);
};

/** Every proposal and decision stored. */
export const allDecisionSteps = (connection: DuckDBConnection) => readSteps(connection, "step <> 'execute'");

/** The proposals and decisions of these checkpoints. */
export const decisionStepsOf = (connection: DuckDBConnection, checkpointIds: readonly string[]) =>
  checkpointIds.length === 0
    ? Promise.resolve([])
    : readSteps(connection, "step <> 'execute' AND checkpoint_id IN (SELECT unnest($ids))", checkpointIds);

/** Every step stored in these traces. */
export const stepsInTraces = (connection: DuckDBConnection, traceIds: readonly string[]) =>
  traceIds.length === 0
    ? Promise.resolve([])
    : readSteps(connection, 'trace_id IN (SELECT unnest($ids))', traceIds);

/** The executions in every trace where one of them claims one of these checkpoints. */
export const executionsClaiming = (connection: DuckDBConnection, checkpointIds: readonly string[]) =>
  checkpointIds.length === 0
    ? Promise.resolve([])
    : readSteps(
        connection,
        `step = 'execute' AND trace_id IN (
           SELECT trace_id FROM checkpoint_steps WHERE step = 'execute' AND checkpoint_id IN (SELECT unnest($ids)))`,
        checkpointIds,
      );

/** Executions in the traces where some execution started in the range (a call's two spans share a trace). */
export const executionsStartedIn = async (
  connection: DuckDBConnection,
  fromNs: bigint,
  toNs: bigint,
): Promise<CheckpointStep[]> => {
  const reader = await connection.runAndReadAll(
    `SELECT * FROM checkpoint_steps WHERE step = 'execute' AND trace_id IN (
       SELECT trace_id FROM checkpoint_steps WHERE step = 'execute' AND start_ns >= $from AND start_ns < $to)
     ORDER BY start_ns, span_id`,
    { from: fromNs, to: toNs },
  );
  return reader.getRowObjectsJS().map(stepFromRow);
};

/** The task of each trace, as the rollup grouped them. */
export const tasksOfTraces = async (
  connection: DuckDBConnection,
  traceIds: readonly string[],
): Promise<Map<string, string>> => {
  if (traceIds.length === 0) return new Map();
  const { values, types } = idsParameter([...new Set(traceIds)]);
  const reader = await connection.runAndReadAll(
    'SELECT trace_id, task_id FROM traces WHERE trace_id IN (SELECT unnest($ids))',
    values,
    types,
  );
  return new Map(reader.getRowObjectsJS().map((row) => [str(row.trace_id), str(row.task_id)]));
};

/** The traces of a task. */
export const tracesOfTask = async (connection: DuckDBConnection, taskId: string): Promise<string[]> => {
  const reader = await connection.runAndReadAll('SELECT trace_id FROM traces WHERE task_id = $taskId', {
    taskId,
  });
  return reader.getRowObjectsJS().map((row) => str(row.trace_id));
};
