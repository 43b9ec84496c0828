import { collectorSelectorFor, defaultDeploymentConfig, type DeploymentConfig } from './deployment.js';

/**
 * Everything a user may want to change about the dashboards, in one object, in the manner of the
 * monitoring mixins: data source, selectors, thresholds, links to a trace backend.
 */
export interface DashboardsConfig {
  /** Name of the data-source variable every panel reads from. */
  readonly datasourceVariable: string;
  /** Prefix of every dashboard uid; uids stay stable as long as this does. */
  readonly uidPrefix: string;
  /** Tags on every dashboard; the dashboards link to each other through the first one. */
  readonly tags: readonly string[];
  /** Extra label matchers on the MCP and GenAI metrics (e.g. `cluster="prod"`), empty for none. */
  readonly mcpSelector: string;
  /** Label matchers that select the collector's own series (its scrape job). */
  readonly collectorSelector: string;
  readonly refresh: string;
  readonly defaultTimeRange: { readonly from: string; readonly to: string };
  readonly thresholds: {
    readonly errorRatioWarning: number;
    readonly errorRatioCritical: number;
    readonly latencyP95WarningSeconds: number;
    readonly latencyP95CriticalSeconds: number;
    readonly taskFailureRatioWarning: number;
    readonly taskFailureRatioCritical: number;
    readonly queueFillWarning: number;
    readonly queueFillCritical: number;
  };
  /** When set, tool and task panels link to traces in this Tempo data source. */
  readonly traces?: { readonly datasourceUid: string };
}

export const defaultDashboardsConfig: DashboardsConfig = {
  datasourceVariable: 'datasource',
  uidPrefix: 'mcpscope',
  tags: ['mcpscope'],
  mcpSelector: '',
  collectorSelector: collectorSelectorFor(defaultDeploymentConfig),
  refresh: '30s',
  defaultTimeRange: { from: 'now-3h', to: 'now' },
  thresholds: {
    errorRatioWarning: 0.05,
    errorRatioCritical: 0.1,
    latencyP95WarningSeconds: 2,
    latencyP95CriticalSeconds: 5,
    taskFailureRatioWarning: 0.1,
    taskFailureRatioCritical: 0.25,
    queueFillWarning: 0.5,
    queueFillCritical: 0.8,
  },
};

/** The dashboards for a deployment: its scrape job selects the collector's series. */
export const dashboardsConfigFor = (
  deployment: DeploymentConfig,
  base: DashboardsConfig = defaultDashboardsConfig,
): DashboardsConfig => ({ ...base, collectorSelector: collectorSelectorFor(deployment) });
