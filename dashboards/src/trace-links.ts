import type { DashboardsConfig } from './config.js';
import { ATTR_GEN_AI_TOOL_NAME, ATTR_MCPSCOPE_TASK_ID, ATTR_SERVICE_NAME, LABEL } from './metric-names.js';
import type { PanelLink } from './panels.js';

/** An Explore link running a TraceQL search in the configured Tempo data source, over the panel's time. */
const exploreTraceQl = (datasourceUid: string, traceQl: string): string => {
  const pane = {
    datasource: datasourceUid,
    queries: [
      { refId: 'A', datasource: { type: 'tempo', uid: datasourceUid }, queryType: 'traceql', query: traceQl },
    ],
    range: { from: '${__from}', to: '${__to}' },
  };
  return `/explore?schemaVersion=1&panes=${JSON.stringify({ traces: pane })}`;
};

/**
 * Links from a row or series that carries service and tool labels to the traces of that tool.
 * `fieldRef` is how the panel type names a label value: `__data.fields` in tables, `__field.labels`
 * in time series.
 */
export const toolTraceLinks = (
  config: DashboardsConfig,
  fieldRef: '__data.fields' | '__field.labels',
): PanelLink[] | undefined =>
  config.traces && [
    {
      title: 'Traces of this tool',
      url: exploreTraceQl(
        config.traces.datasourceUid,
        `{ resource.${ATTR_SERVICE_NAME} = "\${${fieldRef}.${LABEL.serviceName}}" && span.${ATTR_GEN_AI_TOOL_NAME} = "\${${fieldRef}.${LABEL.tool}}" }`,
      ),
    },
  ];

/** Links from a task panel to the traces of failed agent tasks in the same time range. */
export const failedTaskTraceLinks = (config: DashboardsConfig): PanelLink[] | undefined =>
  config.traces && [
    {
      title: 'Traces of failed tasks',
      url: exploreTraceQl(
        config.traces.datasourceUid,
        `{ span.${ATTR_MCPSCOPE_TASK_ID} =~ ".+" && status = error }`,
      ),
    },
  ];
