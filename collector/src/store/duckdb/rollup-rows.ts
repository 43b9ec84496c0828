import {
  callDetailFromText,
  callOutcomeOf,
  ROOT_STATES,
  type TaskOutcome,
  type TaskRollup,
  type ToolCallRollup,
} from '../../rollup/index.js';
import { big, nullableStr, str, strings, type Row } from './values.js';

/** A stored task row as the rollup wrote it (`root_state` set). */
export const taskRollupFromRow = (row: Row): TaskRollup => ({
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

export const callFromRow = (row: Row): ToolCallRollup => ({
  taskId: str(row.task_id),
  traceId: str(row.trace_id),
  spanId: str(row.span_id),
  peerSpanIds: [],
  awaitingCaller: false,
  service: str(row.service),
  method: str(row.method),
  tool: str(row.tool),
  outcome: callOutcomeOf(row.outcome),
  errorType: nullableStr(row.error_type),
  durationMs: Number(row.duration_ms),
  arguments: nullableStr(row.arguments),
  fingerprint: nullableStr(row.fingerprint),
  retryOf: nullableStr(row.retry_of),
  startNs: big(row.start_ns),
  detail: callDetailFromText(nullableStr(row.detail)),
});
