// Imported by relative source path so that generation and type checks work before the collector is
// built; the module is the collector's own `@mcpscope/collector/metrics`.
export {
  LABEL,
  METRICS,
  NO_ERROR_LABEL_VALUE,
  OVERFLOW_LABEL_VALUE,
} from '../../collector/src/metrics/names.js';
import type { MetricDefinition } from '../../collector/src/metrics/names.js';
export type { LabelName, MetricDefinition, MetricKey } from '../../collector/src/metrics/names.js';
export {
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCPSCOPE_TASK_ID,
  ATTR_SERVICE_NAME,
  AUTH_REASONS,
  AUTH_SIDES,
  ERROR_TYPE_TOOL_ERROR,
} from '../../instrumentation/src/conventions.js';

/** Label values the dashboards select on; they are values of the collector's labels, not names. */
export const METHOD_TOOLS_CALL = 'tools/call';
export const TASK_OUTCOMES = ['success', 'recovered', 'failed'] as const;
export const VERDICT_CORRECT = 'correct';
export const REFRESH_FAILURE = 'failure';

/** Prometheus' own per-target health series: 1 when the last scrape succeeded. */
export const PROMETHEUS_UP = {
  name: 'up',
  type: 'gauge',
  help: 'Set by Prometheus: 1 when the last scrape of the target succeeded, else 0.',
  labels: [],
} as const satisfies MetricDefinition;
