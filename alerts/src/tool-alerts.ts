import { matcher, rangeFunction, selector, sumBy, type AlertDefinition } from './alert-definition.js';
import type { AlertsConfig } from './config.js';
import { LABEL, METHOD_TOOLS_CALL, METRICS, NO_ERROR_LABEL_VALUE } from './metric-names.js';

const byTool = [LABEL.serviceName, LABEL.tool];

export const toolErrorRatioAlert = (config: AlertsConfig): AlertDefinition => {
  const calls = [config.mcpSelector, matcher(LABEL.method, '=', METHOD_TOOLS_CALL)];
  const { window } = config.toolErrorRatio;
  const count = (matchers: string[]) =>
    sumBy(
      byTool,
      rangeFunction('rate', selector(METRICS.serverOperationDuration, '_count', matchers), window),
    );
  return {
    name: 'McpscopeToolErrorRatioHigh',
    group: 'mcpscope-tools',
    severity: config.toolErrorRatio.severity,
    for: config.toolErrorRatio.for,
    measurement: `${count([...calls, matcher(LABEL.errorType, '!=', NO_ERROR_LABEL_VALUE)])} / ${count(calls)}`,
    comparator: '>',
    threshold: config.toolErrorRatio.ratio,
    summary: 'An MCP tool is failing a large share of its calls.',
    description: (value) =>
      `{{ ${value} | humanizePercentage }} of calls to tool {{ $labels.${LABEL.tool} }} on {{ $labels.${LABEL.serviceName} }} ` +
      `failed over the last ${window} (threshold ${config.toolErrorRatio.ratio * 100}%).`,
  };
};

export const toolLatencyAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeToolLatencyHigh',
  group: 'mcpscope-tools',
  severity: config.toolLatency.severity,
  for: config.toolLatency.for,
  measurement: `histogram_quantile(0.95, ${sumBy(
    ['le', ...byTool],
    rangeFunction(
      'rate',
      selector(METRICS.serverOperationDuration, '_bucket', [
        config.mcpSelector,
        matcher(LABEL.method, '=', METHOD_TOOLS_CALL),
      ]),
      config.toolLatency.window,
    ),
  )})`,
  comparator: '>',
  threshold: config.toolLatency.p95Seconds,
  summary: 'An MCP tool has become slow.',
  description: (value) =>
    `p95 duration of tool {{ $labels.${LABEL.tool} }} on {{ $labels.${LABEL.serviceName} }} is {{ ${value} | humanizeDuration }} ` +
    `over the last ${config.toolLatency.window} (threshold ${config.toolLatency.p95Seconds}s).`,
});

/** Agents repeating failed calls: each retry costs the task time and tokens. */
export const retryStormAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeRetryStorm',
  group: 'mcpscope-tools',
  severity: config.retryStorm.severity,
  for: config.retryStorm.for,
  measurement: sumBy(
    byTool,
    rangeFunction(
      'rate',
      selector(METRICS.toolCallRetries, '', [config.mcpSelector]),
      config.retryStorm.window,
    ),
  ),
  comparator: '>',
  threshold: config.retryStorm.retriesPerSecond,
  summary: 'Agents are retrying failed calls to one MCP tool over and over.',
  description: (value) =>
    `Agents retry tool {{ $labels.${LABEL.tool} }} on {{ $labels.${LABEL.serviceName} }} {{ ${value} | humanize }} times per second ` +
    `(threshold ${config.retryStorm.retriesPerSecond}/s over ${config.retryStorm.window}).`,
});
