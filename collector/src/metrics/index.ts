export * from './names.js';
export { CollectorMetrics, COLLECTOR_SERVICE_NAME } from './collector-metrics.js';
export type { CollectorMetricsOptions } from './collector-metrics.js';
export { CheckpointMetrics } from './checkpoint-metrics.js';
export type { CheckpointMetricsOptions } from './checkpoint-metrics.js';
export { LabelValueCaps, type LabelCapLimits } from './label-caps.js';
