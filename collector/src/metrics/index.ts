export * from './names.js';
export { CollectorMetrics, COLLECTOR_SERVICE_NAME } from './collector-metrics.js';
export type { CollectorMetricsOptions } from './collector-metrics.js';
export { ToolLabelCap } from './tool-label-cap.js';
