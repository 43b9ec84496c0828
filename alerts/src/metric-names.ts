// The collector's and the instrumentation's published names: a rename there is a compile error here.
export { LABEL, METRICS, NO_ERROR_LABEL_VALUE } from '@mcpscope/collector/metrics';
import type { TaskOutcome } from '@mcpscope/collector/metrics';
export type { LabelName, MetricDefinition } from '@mcpscope/collector/metrics';
import { MCP_METHOD_TOOLS_CALL } from '@mcpscope/instrumentation/conventions';
export { AUTH_REASONS, AUTH_SIDES } from '@mcpscope/instrumentation/conventions';

/** Label values the alerts select on; they are values of the collector's labels, not names. */
export const METHOD_TOOLS_CALL = MCP_METHOD_TOOLS_CALL;
export const TASK_OUTCOME_FAILED: TaskOutcome = 'failed';
export const REJECTION_UNAUTHENTICATED = 'unauthenticated';
