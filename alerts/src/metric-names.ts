// Imported by relative source path so that generation and type checks work before the collector is
// built; the module is the collector's own `@mcpscope/collector/metrics`.
export { LABEL, METRICS, NO_ERROR_LABEL_VALUE } from '../../collector/src/metrics/names.js';
export type { LabelName, MetricDefinition } from '../../collector/src/metrics/names.js';
export { AUTH_REASONS, AUTH_SIDES } from '../../instrumentation/src/conventions.js';

/** Label values the alerts select on; they are values of the collector's labels, not names. */
export const METHOD_TOOLS_CALL = 'tools/call';
export const TASK_OUTCOME_FAILED = 'failed';
export const REJECTION_UNAUTHENTICATED = 'unauthenticated';
