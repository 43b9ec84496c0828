import type { DashboardsConfig } from './config.js';
import {
  configMatchers,
  dashboardFrame,
  labelVariable,
  toDashboardJson,
  type DashboardJson,
} from './dashboard-frame.js';
import { LABEL, METHOD_TOOLS_CALL, METRICS, NO_ERROR_LABEL_VALUE } from './metric-names.js';
import { datasourceRef, row, statPanel, timeseriesPanel } from './panels.js';
import { histogramQuantile, matcher, rate, ratio, sumBy } from './promql.js';
import { toolTraceLinks } from './trace-links.js';

export const TOOL_DRILLDOWN_UID_SUFFIX = 'tool';

/** One tool across the services that serve it: calls, errors, latency on both sides, retries. */
export const toolDrilldownDashboard = (config: DashboardsConfig): DashboardJson => {
  const datasource = datasourceRef(config.datasourceVariable);
  const server = METRICS.serverOperationDuration;
  const client = METRICS.clientOperationDuration;
  const base = configMatchers(config.mcpSelector);
  const toolCalls = [matcher(LABEL.method, '=', METHOD_TOOLS_CALL), matcher(LABEL.tool, '=~', '$tool')];
  const selected = [...base, matcher(LABEL.serviceName, '=~', '$service'), ...toolCalls];
  const failed = [...selected, matcher(LABEL.errorType, '!=', NO_ERROR_LABEL_VALUE)];
  const retries = [...base, matcher(LABEL.serviceName, '=~', '$service'), matcher(LABEL.tool, '=~', '$tool')];
  const { thresholds } = config;
  const errorSteps = [
    { value: thresholds.errorRatioWarning, color: 'orange' as const },
    { value: thresholds.errorRatioCritical, color: 'red' as const },
  ];
  const latencySteps = [
    { value: thresholds.latencyP95WarningSeconds, color: 'orange' as const },
    { value: thresholds.latencyP95CriticalSeconds, color: 'red' as const },
  ];
  const calls = sumBy([], rate(server, '_count', selected));

  const builder = dashboardFrame(config, {
    uidSuffix: TOOL_DRILLDOWN_UID_SUFFIX,
    title: 'mcpscope / Tool drill-down',
    description: 'One MCP tool across the servers that expose it: calls, errors, latency and retries.',
    variables: [
      labelVariable(config, {
        name: 'service',
        label: 'Service',
        description: 'MCP servers (service.name) serving the tool.',
        metric: server,
        suffix: '_count',
        labelName: LABEL.serviceName,
        matchers: [...base, matcher(LABEL.method, '=', METHOD_TOOLS_CALL)],
      }),
      labelVariable(config, {
        name: 'tool',
        label: 'Tool',
        description: 'Tool name (gen_ai.tool.name).',
        metric: server,
        suffix: '_count',
        labelName: LABEL.tool,
        matchers: [
          ...base,
          matcher(LABEL.serviceName, '=~', '$service'),
          matcher(LABEL.method, '=', METHOD_TOOLS_CALL),
        ],
      }),
    ],
  })
    .withRow(row(100, 'At a glance'))
    .withPanel(
      statPanel(
        {
          id: 1,
          title: 'Calls',
          description: 'Calls per second to the selected tool.',
          unit: 'reqps',
          width: 6,
          queries: [{ expr: calls, legend: 'calls' }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 2,
          title: 'Error ratio',
          description: 'Share of calls to the tool that failed, tool errors and protocol errors together.',
          unit: 'percentunit',
          width: 6,
          thresholds: errorSteps,
          queries: [{ expr: ratio(sumBy([], rate(server, '_count', failed)), calls), legend: 'errors' }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 3,
          title: 'p95 latency',
          description: '95th percentile of server-side duration of calls to the tool.',
          unit: 's',
          width: 6,
          thresholds: latencySteps,
          queries: [{ expr: histogramQuantile(0.95, server, [], selected), legend: 'p95' }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 4,
          title: 'Retries',
          description:
            'Retried calls to the tool per second (a call repeating an earlier failed call in the same task).',
          unit: 'reqps',
          width: 6,
          queries: [{ expr: sumBy([], rate(METRICS.toolCallRetries, '', retries)), legend: 'retries' }],
        },
        datasource,
      ),
    )
    .withRow(row(101, 'Calls and errors'))
    .withPanel(
      timeseriesPanel(
        {
          id: 5,
          title: 'Calls by service',
          description: 'Calls per second to the tool, by the server that handled them.',
          unit: 'reqps',
          width: 12,
          queries: [
            {
              expr: sumBy([LABEL.serviceName, LABEL.tool], rate(server, '_count', selected)),
              legend: `{{${LABEL.serviceName}}} {{${LABEL.tool}}}`,
            },
          ],
          links: toolTraceLinks(config, '__field.labels'),
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 6,
          title: 'Errors by type',
          description:
            'Failed calls per second, by error.type: tool_error for isError results, else the JSON-RPC code or exception class.',
          unit: 'reqps',
          width: 12,
          queries: [
            {
              expr: sumBy([LABEL.serviceName, LABEL.tool, LABEL.errorType], rate(server, '_count', failed)),
              legend: `{{${LABEL.serviceName}}} {{${LABEL.tool}}} {{${LABEL.errorType}}}`,
            },
          ],
          links: toolTraceLinks(config, '__field.labels'),
        },
        datasource,
      ),
    )
    .withRow(row(102, 'Latency'))
    .withPanel(
      timeseriesPanel(
        {
          id: 7,
          title: 'Server-side latency percentiles',
          description: 'p50, p95 and p99 of the tool call duration measured by the server.',
          unit: 's',
          width: 12,
          thresholds: latencySteps,
          queries: [0.5, 0.95, 0.99].map((q) => ({
            expr: histogramQuantile(q, server, [LABEL.serviceName], selected),
            legend: `p${Math.round(q * 100)} {{${LABEL.serviceName}}}`,
          })),
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 8,
          title: 'Caller-side latency percentiles',
          description:
            'p50, p95 and p99 of the tool call duration measured by the calling agents, by calling service (transport and queueing included).',
          unit: 's',
          width: 12,
          thresholds: latencySteps,
          queries: [0.5, 0.95, 0.99].map((q) => ({
            expr: histogramQuantile(q, client, [LABEL.serviceName], [...base, ...toolCalls]),
            legend: `p${Math.round(q * 100)} {{${LABEL.serviceName}}}`,
          })),
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 9,
          title: 'Retries by service',
          description: 'Retried calls to the tool per second, by service.',
          unit: 'reqps',
          width: 24,
          queries: [
            {
              expr: sumBy([LABEL.serviceName, LABEL.tool], rate(METRICS.toolCallRetries, '', retries)),
              legend: `{{${LABEL.serviceName}}} {{${LABEL.tool}}}`,
            },
          ],
        },
        datasource,
      ),
    );
  return toDashboardJson(builder);
};
