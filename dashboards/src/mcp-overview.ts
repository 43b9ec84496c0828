import type { DashboardsConfig } from './config.js';
import {
  configMatchers,
  dashboardFrame,
  labelVariable,
  toDashboardJson,
  type DashboardJson,
} from './dashboard-frame.js';
import {
  ERROR_TYPE_TOOL_ERROR,
  LABEL,
  METHOD_TOOLS_CALL,
  METRICS,
  NO_ERROR_LABEL_VALUE,
} from './metric-names.js';
import { datasourceRef, row, statPanel, tablePanel, timeseriesPanel } from './panels.js';
import { toolTraceLinks } from './trace-links.js';
import { histogramQuantile, matcher, rate, ratio, shareOfTotal, sumBy } from './promql.js';

export const MCP_OVERVIEW_UID_SUFFIX = 'overview';

/** Request rate, errors, latency and retries of every instrumented MCP server, by service and tool. */
export const mcpOverviewDashboard = (config: DashboardsConfig): DashboardJson => {
  const datasource = datasourceRef(config.datasourceVariable);
  const server = METRICS.serverOperationDuration;
  const client = METRICS.clientOperationDuration;
  const services = [...configMatchers(config.mcpSelector), matcher(LABEL.serviceName, '=~', '$service')];
  const failed = [...services, matcher(LABEL.errorType, '!=', NO_ERROR_LABEL_VALUE)];
  const toolCalls = [...services, matcher(LABEL.method, '=', METHOD_TOOLS_CALL)];
  const { thresholds } = config;
  const errorSteps = [
    { value: thresholds.errorRatioWarning, color: 'orange' as const },
    { value: thresholds.errorRatioCritical, color: 'red' as const },
  ];
  const latencySteps = [
    { value: thresholds.latencyP95WarningSeconds, color: 'orange' as const },
    { value: thresholds.latencyP95CriticalSeconds, color: 'red' as const },
  ];
  const allRequests = sumBy([], rate(server, '_count', services));

  const builder = dashboardFrame(config, {
    uidSuffix: MCP_OVERVIEW_UID_SUFFIX,
    title: 'mcpscope / MCP overview',
    description: 'Request rate, errors, latency and retries of every instrumented MCP server.',
    variables: [
      labelVariable(config, {
        name: 'service',
        label: 'Service',
        description: 'MCP servers (service.name) to show.',
        metric: server,
        suffix: '_count',
        labelName: LABEL.serviceName,
        matchers: configMatchers(config.mcpSelector),
      }),
    ],
  })
    .withRow(row(100, 'At a glance'))
    .withPanel(
      statPanel(
        {
          id: 1,
          title: 'Requests',
          description: 'MCP requests per second handled by the selected servers, all methods.',
          unit: 'reqps',
          width: 6,
          queries: [{ expr: allRequests, legend: 'requests' }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 2,
          title: 'Error ratio',
          description:
            'Share of requests that failed: tool errors (isError results) and protocol errors (JSON-RPC codes, exceptions) together.',
          unit: 'percentunit',
          width: 6,
          thresholds: errorSteps,
          queries: [
            { expr: ratio(sumBy([], rate(server, '_count', failed)), allRequests), legend: 'errors' },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 3,
          title: 'p95 latency',
          description: '95th percentile of server-side request duration across the selected servers.',
          unit: 's',
          width: 6,
          thresholds: latencySteps,
          queries: [{ expr: histogramQuantile(0.95, server, [], services), legend: 'p95' }],
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
            'Tool calls per second that repeat an earlier failed call in the same task (same caller, tool and arguments).',
          unit: 'reqps',
          width: 6,
          queries: [{ expr: sumBy([], rate(METRICS.toolCallRetries, '', services)), legend: 'retries' }],
        },
        datasource,
      ),
    )
    .withRow(row(101, 'Traffic and errors'))
    .withPanel(
      timeseriesPanel(
        {
          id: 5,
          title: 'Requests by service and method',
          description: 'MCP requests per second, by server (service.name) and MCP method.',
          unit: 'reqps',
          width: 12,
          queries: [
            {
              expr: sumBy([LABEL.serviceName, LABEL.method], rate(server, '_count', services)),
              legend: `{{${LABEL.serviceName}}} {{${LABEL.method}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 6,
          title: 'Error ratio by error type',
          description:
            'Share of all requests failing, by error.type: tool_error is a tool that answered isError; any other value is a protocol error (JSON-RPC code or exception class).',
          unit: 'percentunit',
          width: 12,
          thresholds: errorSteps,
          queries: [
            {
              expr: shareOfTotal(
                sumBy(
                  [LABEL.errorType],
                  rate(server, '_count', [...services, matcher(LABEL.errorType, '=', ERROR_TYPE_TOOL_ERROR)]),
                ),
                allRequests,
              ),
              legend: 'tool errors',
            },
            {
              expr: shareOfTotal(
                sumBy(
                  [LABEL.errorType],
                  rate(server, '_count', [
                    ...services,
                    matcher(LABEL.errorType, '!~', `${NO_ERROR_LABEL_VALUE}|${ERROR_TYPE_TOOL_ERROR}`),
                  ]),
                ),
                allRequests,
              ),
              legend: `protocol: {{${LABEL.errorType}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withRow(row(102, 'Latency'))
    .withPanel(
      timeseriesPanel(
        {
          id: 7,
          title: 'Latency percentiles by service',
          description: 'p50, p95 and p99 of server-side request duration, by server.',
          unit: 's',
          width: 12,
          thresholds: latencySteps,
          queries: [0.5, 0.95, 0.99].map((q) => ({
            expr: histogramQuantile(q, server, [LABEL.serviceName], services),
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
          title: 'p95 latency by tool',
          description: '95th percentile of tools/call duration on the server, by server and tool.',
          unit: 's',
          width: 12,
          thresholds: latencySteps,
          queries: [
            {
              expr: histogramQuantile(0.95, server, [LABEL.serviceName, LABEL.tool], toolCalls),
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
          id: 9,
          title: 'p95 latency seen by callers',
          description:
            'p95 of request duration as the calling agent measured it, by calling service; the gap to the server-side figure is transport and queueing.',
          unit: 's',
          width: 12,
          thresholds: latencySteps,
          queries: [
            {
              expr: histogramQuantile(0.95, client, [LABEL.serviceName], configMatchers(config.mcpSelector)),
              legend: `{{${LABEL.serviceName}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 10,
          title: 'Retries by tool',
          description:
            'Retried tool calls per second, by service and tool. A steady line means an agent loops on a failing call.',
          unit: 'reqps',
          width: 12,
          queries: [
            {
              expr: sumBy([LABEL.serviceName, LABEL.tool], rate(METRICS.toolCallRetries, '', services)),
              legend: `{{${LABEL.serviceName}}} {{${LABEL.tool}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withRow(row(103, 'Failing tools'))
    .withPanel(
      tablePanel(
        {
          id: 11,
          title: 'Top failing tools',
          description:
            'The ten tools with the most failed calls per second right now, by server, tool and error type.',
          unit: 'reqps',
          width: 24,
          queries: [
            {
              expr: `topk(10, ${sumBy(
                [LABEL.serviceName, LABEL.tool, LABEL.errorType],
                rate(server, '_count', [...failed, matcher(LABEL.method, '=', METHOD_TOOLS_CALL)]),
              )})`,
            },
          ],
          links: toolTraceLinks(config, '__data.fields'),
        },
        datasource,
      ),
    );
  return toDashboardJson(builder);
};
