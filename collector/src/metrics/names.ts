/**
 * Every metric the collector exposes: name, type, help, labels and buckets. Dashboards and alerts
 * import these definitions; they never retype a metric or label name.
 *
 * Names follow the OpenTelemetry MCP and GenAI conventions in Prometheus form (dots to underscores,
 * unit suffix), so dashboards also read semconv MCP metrics from any other source. What the
 * conventions lack lives under `mcpscope_*`.
 */

/** Label names, in one place. */
export const LABEL = {
  serviceName: 'service_name',
  method: 'mcp_method_name',
  tool: 'gen_ai_tool_name',
  errorType: 'error_type',
  tokenType: 'gen_ai_token_type',
  outcome: 'outcome',
  side: 'side',
  reason: 'reason',
  protocol: 'protocol',
  verdict: 'verdict',
  rule: 'rule',
  kind: 'kind',
  label: 'label',
  destructive: 'destructive',
} as const;
export type LabelName = (typeof LABEL)[keyof typeof LABEL];

/** Bucket boundaries the MCP conventions recommend for operation durations (seconds). */
const CONVENTION_DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
/**
 * Between 1 and 10 s, where slow tools live, boundaries at most about 1.2× apart: a p95 read from
 * the histogram is then within about 20% of the true one (from 2 s straight to 5 s, a tool that always
 * takes 2.03 s showed a p95 of 4.85 s). The convention's boundaries stay, so its queries still line up.
 */
const SLOW_TOOL_BUCKETS = [1.2, 1.4, 1.65, 2.4, 2.8, 3.4, 4, 4.8, 5.8, 7, 8.4];
/** Operation durations (seconds): the convention's buckets, finer between 1 and 10 s. */
export const MCP_DURATION_BUCKETS = [...CONVENTION_DURATION_BUCKETS, ...SLOW_TOOL_BUCKETS].sort(
  (a, b) => a - b,
);
/** Bucket boundaries the GenAI conventions recommend for token usage. */
export const TOKEN_USAGE_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** Task durations span seconds to an hour. */
export const TASK_DURATION_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** A human's answer takes seconds to a day. */
export const CHECKPOINT_WAIT_BUCKETS = [
  1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400,
];
export const COMMIT_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface MetricDefinition {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels: readonly LabelName[];
  readonly buckets?: readonly number[];
}

const define = <const T extends MetricDefinition>(definition: T): T => definition;

export const METRICS = {
  // OpenTelemetry MCP conventions: mcp.server.operation.duration, mcp.client.operation.duration.
  serverOperationDuration: define({
    name: 'mcp_server_operation_duration_seconds',
    type: 'histogram',
    help: 'MCP request duration as observed on the receiver, from the time it was received until the result was sent.',
    labels: [LABEL.serviceName, LABEL.method, LABEL.tool, LABEL.errorType],
    buckets: MCP_DURATION_BUCKETS,
  }),
  clientOperationDuration: define({
    name: 'mcp_client_operation_duration_seconds',
    type: 'histogram',
    help: 'MCP request duration as observed on the sender, from the time it was sent until the response was received.',
    labels: [LABEL.serviceName, LABEL.method, LABEL.tool, LABEL.errorType],
    buckets: MCP_DURATION_BUCKETS,
  }),
  // OpenTelemetry GenAI conventions: gen_ai.client.token.usage.
  tokenUsage: define({
    name: 'gen_ai_client_token_usage',
    type: 'histogram',
    help: 'Number of input and output tokens used, per span that reports usage.',
    labels: [LABEL.serviceName, LABEL.tokenType],
    buckets: TOKEN_USAGE_BUCKETS,
  }),

  // Agent tasks (counted when a task settles: no new span for the configured idle time).
  tasks: define({
    name: 'mcpscope_tasks_total',
    type: 'counter',
    help: 'Agent tasks settled, by outcome (success, recovered, failed).',
    labels: [LABEL.outcome],
  }),
  taskDuration: define({
    name: 'mcpscope_task_duration_seconds',
    type: 'histogram',
    help: 'Duration of settled agent tasks, from first span start to last span end.',
    labels: [LABEL.outcome],
    buckets: TASK_DURATION_BUCKETS,
  }),
  taskTokens: define({
    name: 'mcpscope_task_tokens',
    type: 'histogram',
    help: 'LLM tokens used per settled agent task, by token type (input, output).',
    labels: [LABEL.tokenType],
    buckets: TOKEN_USAGE_BUCKETS,
  }),
  taskRetries: define({
    name: 'mcpscope_task_retries',
    type: 'histogram',
    help: 'Tool-call retries per settled agent task.',
    labels: [],
    buckets: [0, 1, 2, 3, 5, 10, 20, 50],
  }),
  toolCallRetries: define({
    name: 'mcpscope_tool_call_retries_total',
    type: 'counter',
    help: 'Tool calls that repeat an earlier failed call in the same task (same caller, tool and arguments).',
    labels: [LABEL.serviceName, LABEL.tool],
  }),
  taskFeedback: define({
    name: 'mcpscope_task_feedback_total',
    type: 'counter',
    help: 'Verdicts recorded on tasks ("was the result correct?"), by verdict (correct, incorrect).',
    labels: [LABEL.verdict],
  }),

  // Human checkpoints and writes (see docs/checkpoint-verdicts.md); counted once a checkpoint or write settles.
  checkpoints: define({
    name: 'mcpscope_checkpoints_total',
    type: 'counter',
    help: 'Human checkpoints decided, by service, tool and outcome (approved, rejected, expired, cancelled).',
    labels: [LABEL.serviceName, LABEL.tool, LABEL.outcome],
  }),
  checkpointWait: define({
    name: 'mcpscope_checkpoint_wait_seconds',
    type: 'histogram',
    help: 'Time from a checkpoint request to its decision.',
    labels: [LABEL.serviceName, LABEL.tool],
    buckets: CHECKPOINT_WAIT_BUCKETS,
  }),
  checkpointsPending: define({
    name: 'mcpscope_checkpoints_pending',
    type: 'gauge',
    help: 'Human checkpoints requested and not decided yet.',
    labels: [LABEL.serviceName, LABEL.tool],
  }),
  checkpointPendingOldest: define({
    name: 'mcpscope_checkpoint_pending_oldest_seconds',
    type: 'gauge',
    help: 'How long the oldest pending checkpoint of a service has waited.',
    labels: [LABEL.serviceName],
  }),
  writes: define({
    name: 'mcpscope_writes_total',
    type: 'counter',
    help: 'Executed writes (tools not annotated read-only), each under its worst verdict: modified, unapproved, stale, approved.',
    labels: [LABEL.serviceName, LABEL.tool, LABEL.verdict],
  }),
  orphanedWrites: define({
    name: 'mcpscope_orphaned_writes_total',
    type: 'counter',
    help: 'Writes the server completed after their caller gave up (timeout, closed connection, cancelled): possible stuck locks.',
    labels: [LABEL.serviceName, LABEL.tool, LABEL.destructive],
  }),

  // Auth.
  authFailures: define({
    name: 'mcpscope_auth_failures_total',
    type: 'counter',
    help: 'Authentication and authorization failures, by service, side (server, client, collector) and reason.',
    labels: [LABEL.serviceName, LABEL.side, LABEL.reason],
  }),
  tokenRefreshes: define({
    name: 'mcpscope_auth_token_refreshes_total',
    type: 'counter',
    help: 'OAuth token refreshes attempted by MCP clients, by outcome (success, failure).',
    labels: [LABEL.serviceName, LABEL.outcome],
  }),

  // The collector's own health.
  spansReceived: define({
    name: 'mcpscope_collector_spans_received_total',
    type: 'counter',
    help: 'Spans received in accepted OTLP requests, by protocol (grpc, http_protobuf, http_json).',
    labels: [LABEL.protocol],
  }),
  spansCommitted: define({
    name: 'mcpscope_collector_spans_committed_total',
    type: 'counter',
    help: 'Spans committed to storage (duplicate deliveries included once).',
    labels: [],
  }),
  duplicateSpans: define({
    name: 'mcpscope_collector_duplicate_spans_total',
    type: 'counter',
    help: 'Spans delivered again after they were already stored (exporter retries); not double-counted.',
    labels: [],
  }),
  requestsRejected: define({
    name: 'mcpscope_collector_requests_rejected_total',
    type: 'counter',
    help: 'OTLP and API requests rejected, by protocol and reason (unauthenticated, malformed, too_large, unsupported_media_type, overloaded, invalid, limit_exceeded, storage_error, throttled, auth_unavailable).',
    labels: [LABEL.protocol, LABEL.reason],
  }),
  spansDropped: define({
    name: 'mcpscope_collector_spans_dropped_total',
    type: 'counter',
    help: 'Spans accepted but not stored, by reason. Should stay at zero.',
    labels: [LABEL.reason],
  }),
  queueDepth: define({
    name: 'mcpscope_collector_queue_depth',
    type: 'gauge',
    help: 'Spans waiting to be committed.',
    labels: [],
  }),
  queueCapacity: define({
    name: 'mcpscope_collector_queue_capacity',
    type: 'gauge',
    help: 'Spans the ingest queue holds before it answers with a retryable overload status.',
    labels: [],
  }),
  commitDuration: define({
    name: 'mcpscope_collector_commit_duration_seconds',
    type: 'histogram',
    help: 'Time to commit one batch of spans to storage.',
    labels: [],
    buckets: COMMIT_DURATION_BUCKETS,
  }),
  rollupPending: define({
    name: 'mcpscope_collector_rollup_pending_spans',
    type: 'gauge',
    help: 'Spans committed and acknowledged whose tasks are not rolled up yet.',
    labels: [],
  }),
  rollupDuration: define({
    name: 'mcpscope_collector_rollup_duration_seconds',
    type: 'histogram',
    help: 'Time to roll up the tasks of the spans committed since the previous rollup.',
    labels: [],
    buckets: COMMIT_DURATION_BUCKETS,
  }),
  rollupSetAside: define({
    name: 'mcpscope_collector_rollup_set_aside_traces_total',
    type: 'counter',
    help: 'Traces whose rollup kept failing alone while others rolled up, set aside until the next start (their spans stay stored). Should stay at zero.',
    labels: [],
  }),
  foreignClaims: define({
    name: 'mcpscope_collector_foreign_claims_total',
    type: 'counter',
    help: 'Spans that named a trace id or task id another producer identity sent first, kept apart under an id of their own, by kind (trace, task).',
    labels: [LABEL.kind],
  }),
  spanTimesClamped: define({
    name: 'mcpscope_collector_span_times_clamped_total',
    type: 'counter',
    help: 'Spans dated further ahead of their arrival than the trusted clock skew, whose times were set to the arrival time.',
    labels: [],
  }),
  labelValuesFolded: define({
    name: 'mcpscope_collector_label_values_folded_total',
    type: 'counter',
    help: 'Observations whose label value was folded into _other because the label reached its cap of distinct values, by label.',
    labels: [LABEL.label],
  }),
  jwksFetchFailures: define({
    name: 'mcpscope_collector_jwks_fetch_failures_total',
    type: 'counter',
    help: "Failed fetches of the identity provider's JWKS, by whether the last good keys are still served (outcome: stale_keys_served, no_keys).",
    labels: [LABEL.outcome],
  }),
  jwksStaleKeyVerifications: define({
    name: 'mcpscope_collector_jwks_stale_key_verifications_total',
    type: 'counter',
    help: 'JWTs verified with identity provider keys past their age because the JWKS could not be fetched (within the grace time).',
    labels: [],
  }),
  redactions: define({
    name: 'mcpscope_collector_redactions_total',
    type: 'counter',
    help: 'Values the collector replaced because they looked like secrets, by rule.',
    labels: [LABEL.rule],
  }),
  forwardedSpans: define({
    name: 'mcpscope_collector_forwarded_spans_total',
    type: 'counter',
    help: 'Redacted spans forwarded to the downstream OTLP endpoint, by outcome (success, failure).',
    labels: [LABEL.outcome],
  }),
} as const;

export type MetricKey = keyof typeof METRICS;

/** Value a label takes when the distinct-value cap for a service is reached. */
export const OVERFLOW_LABEL_VALUE = '_other';
/** Value of `error_type` on successful operations (Prometheus has no absent label in a series key). */
export const NO_ERROR_LABEL_VALUE = '';

/**
 * Label values the collector writes that dashboards and alerts select on: a task's outcomes, the
 * verdicts, a failed call's error type when its span names none. From the collector's product rules.
 */
export { FEEDBACK_VERDICTS, TASK_OUTCOMES } from '../rollup/task-outcome.js';
export type { FeedbackVerdict, TaskOutcome } from '../rollup/task-outcome.js';
export { UNNAMED_ERROR_TYPE } from '../rollup/failed-call.js';
export { CHECKPOINT_OUTCOMES } from '../rollup/checkpoint-conventions.js';
export { WRITE_VERDICTS } from '../rollup/checkpoints.js';
