import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { DashboardsConfig } from './config.js';
import type { MetricDefinition } from './metric-names.js';
import { selector } from './promql.js';
import { datasourceRef } from './panels.js';

/** A classic dashboard JSON model, as Grafana provisions it from a file. */
export type DashboardJson = Record<string, unknown> & {
  uid: string;
  title: string;
  panels: Array<Record<string, unknown>>;
};

export interface DashboardFrame {
  readonly uidSuffix: string;
  readonly title: string;
  readonly description: string;
  readonly variables?: readonly dashboard.QueryVariableBuilder[];
}

export const dashboardUid = (config: DashboardsConfig, suffix: string): string =>
  `${config.uidPrefix}-${suffix}`;

/** The parts every mcpscope dashboard shares: data-source variable, tags, links, time settings. */
export const dashboardFrame = (
  config: DashboardsConfig,
  frame: DashboardFrame,
): dashboard.DashboardBuilder => {
  const builder = new dashboard.DashboardBuilder(frame.title)
    .uid(dashboardUid(config, frame.uidSuffix))
    .description(frame.description)
    .tags([...config.tags])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh(config.refresh)
    .time({ from: config.defaultTimeRange.from, to: config.defaultTimeRange.to })
    .timezone('browser')
    .withVariable(
      new dashboard.DatasourceVariableBuilder(config.datasourceVariable)
        .label('Data source')
        .description('Prometheus that scrapes the mcpscope collector.')
        .type('prometheus'),
    )
    .link(
      new dashboard.DashboardLinkBuilder('mcpscope dashboards')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([config.tags[0] ?? config.uidPrefix])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
  for (const variable of frame.variables ?? []) builder.withVariable(variable);
  return builder;
};

/** A multi-value variable over the values one label takes on one metric. */
export const labelVariable = (
  config: DashboardsConfig,
  options: {
    readonly name: string;
    readonly label: string;
    readonly description: string;
    readonly metric: MetricDefinition;
    readonly suffix: '' | '_count';
    readonly labelName: string;
    readonly matchers?: readonly string[];
  },
): dashboard.QueryVariableBuilder => {
  const query = `label_values(${selector(options.metric, options.suffix, options.matchers)}, ${options.labelName})`;
  return new dashboard.QueryVariableBuilder(options.name)
    .label(options.label)
    .description(options.description)
    .datasource(datasourceRef(config.datasourceVariable))
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all', selected: true });
};

/**
 * The Grafana release docker-compose.yml runs, and the newest dashboard schema version it knows. The
 * SDK writes its own newest (42, from the 12.x line); a Grafana that meets a schema newer than its own
 * may not migrate the dashboard as the file intends. A test keeps the pin and the compose file in step.
 */
export const PINNED_GRAFANA = { image: 'grafana/grafana:11.6.0', dashboardSchemaVersion: 41 } as const;

/** Plain JSON: builders may carry function properties, and link placement only suits new layouts. */
export const toDashboardJson = (builder: dashboard.DashboardBuilder): DashboardJson => {
  const json = JSON.parse(JSON.stringify(builder.build())) as DashboardJson;
  for (const link of (json.links as Array<Record<string, unknown>> | undefined) ?? []) delete link.placement;
  json.schemaVersion = PINNED_GRAFANA.dashboardSchemaVersion;
  return json;
};

/** Matchers from a config selector string such as `job="x", cluster="y"`. */
export const configMatchers = (selectorText: string): string[] =>
  selectorText.trim().length > 0 ? [selectorText.trim()] : [];
