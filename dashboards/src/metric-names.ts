// The collector's and the instrumentation's published names: a rename there is a compile error here.
export {
  LABEL,
  METRICS,
  NO_ERROR_LABEL_VALUE,
  OVERFLOW_LABEL_VALUE,
  TASK_OUTCOMES,
} from '@mcpscope/collector/metrics';
import type { FeedbackVerdict, MetricDefinition } from '@mcpscope/collector/metrics';
export type { LabelName, MetricDefinition, MetricKey } from '@mcpscope/collector/metrics';
import { MCP_METHOD_TOOLS_CALL } from '@mcpscope/instrumentation/conventions';
export {
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCPSCOPE_TASK_ID,
  ATTR_SERVICE_NAME,
  AUTH_REASONS,
  AUTH_SIDES,
  ERROR_TYPE_TOOL_ERROR,
} from '@mcpscope/instrumentation/conventions';

/** Label values the dashboards select on; they are values of the collector's labels, not names. */
export const METHOD_TOOLS_CALL = MCP_METHOD_TOOLS_CALL;
export const VERDICT_CORRECT: FeedbackVerdict = 'correct';
export const REFRESH_FAILURE = 'failure';

/** Prometheus' own per-target health series: 1 when the last scrape succeeded. */
export const PROMETHEUS_UP = {
  name: 'up',
  type: 'gauge',
  help: 'Set by Prometheus: 1 when the last scrape of the target succeeded, else 0.',
  labels: [],
} as const satisfies MetricDefinition;
