import { agentTasksDashboard } from './agent-tasks.js';
import { authDashboard } from './auth.js';
import { checkpointsDashboard } from './checkpoints.js';
import { collectorHealthDashboard } from './collector-health.js';
import { defaultDashboardsConfig, type DashboardsConfig } from './config.js';
import type { DashboardJson } from './dashboard-frame.js';
import { mcpOverviewDashboard } from './mcp-overview.js';
import { toolDrilldownDashboard } from './tool-drilldown.js';

/** Every mcpscope dashboard, in the order they are listed to users. */
export const allDashboards = (config: DashboardsConfig = defaultDashboardsConfig): DashboardJson[] => [
  mcpOverviewDashboard(config),
  toolDrilldownDashboard(config),
  agentTasksDashboard(config),
  authDashboard(config),
  checkpointsDashboard(config),
  collectorHealthDashboard(config),
];

export interface PanelQueryRef {
  readonly dashboardUid: string;
  readonly dashboardTitle: string;
  readonly panelId: number;
  readonly panelTitle: string;
  readonly refId: string;
  readonly expr: string;
  /** Whether Grafana runs it as an instant query (tables) rather than a range query. */
  readonly instant: boolean;
  /** Dashboard variables the expression refers to, without the `$` (e.g. `service`). */
  readonly variables: readonly string[];
}

interface PanelJson {
  id?: number;
  title?: string;
  type?: string;
  targets?: Array<{ refId?: string; expr?: string; instant?: boolean }>;
  panels?: PanelJson[];
}

/** Panels of a dashboard, those nested in collapsed rows included. */
export const panelsOf = (dashboard: DashboardJson): PanelJson[] =>
  (dashboard.panels as PanelJson[]).flatMap((panel) => [panel, ...(panel.panels ?? [])]);

/** Names of the dashboard's template variables. */
export const variablesOf = (dashboard: DashboardJson): string[] =>
  ((dashboard.templating as { list?: Array<{ name: string }> } | undefined)?.list ?? []).map((v) => v.name);

const variableReferences = (expr: string, known: readonly string[]): string[] =>
  known.filter((name) => new RegExp(`\\$(\\{${name}(:[a-z]+)?\\}|${name}\\b)`).test(expr));

/**
 * Every query of every panel, with where it lives and the variables it needs, so an end-to-end test
 * can evaluate each one against a real Prometheus (see {@link expandGrafanaVariables}).
 */
export const listPanelQueries = (config: DashboardsConfig = defaultDashboardsConfig): PanelQueryRef[] =>
  allDashboards(config).flatMap((dashboard) => {
    const known = variablesOf(dashboard);
    return panelsOf(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        dashboardUid: dashboard.uid,
        dashboardTitle: dashboard.title,
        panelId: panel.id ?? -1,
        panelTitle: panel.title ?? '',
        refId: target.refId ?? '',
        expr: target.expr ?? '',
        instant: target.instant === true,
        variables: variableReferences(target.expr ?? '', known),
      })),
    );
  });

/**
 * Replaces Grafana's variables the way Grafana would before sending a query to Prometheus: the
 * interval variables by a duration, template variables by a value (default `.*`, what "All" means).
 */
export const expandGrafanaVariables = (
  expr: string,
  {
    rateInterval = '1m',
    range = '5m',
    variables = {},
  }: { rateInterval?: string; range?: string; variables?: Readonly<Record<string, string>> } = {},
): string =>
  expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__range', range)
    .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_whole, name: string) => variables[name] ?? '.*');
