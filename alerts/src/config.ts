import {
  collectorSelectorFor,
  defaultDeploymentConfig,
  type DeploymentConfig,
} from '../../dashboards/src/index.js';

export type Severity = 'critical' | 'warning';

interface AlertTuning {
  /** How long the condition must hold before the alert fires (a Prometheus duration). */
  readonly for: string;
  readonly severity: Severity;
}

/**
 * Every threshold, window, `for` duration and severity of the mcpscope alerts, in one object a user
 * can change (and a test can shorten), in the manner of the monitoring mixins.
 */
export interface AlertsConfig {
  /** Runbooks live at `${runbookBaseUrl}/${AlertName}.md`. */
  readonly runbookBaseUrl: string;
  /** Extra label matchers on the MCP metrics (e.g. `cluster="prod"`), empty for none. */
  readonly mcpSelector: string;
  /** Label matchers that select the collector's own series (its scrape job). */
  readonly collectorSelector: string;
  /** Evaluation interval of the rule groups. */
  readonly evaluationInterval: string;
  readonly authFailures: AlertTuning & { readonly window: string; readonly failures: number };
  readonly authFailureBurst: AlertTuning & { readonly window: string; readonly failuresPerSecond: number };
  readonly toolErrorRatio: AlertTuning & { readonly window: string; readonly ratio: number };
  readonly toolLatency: AlertTuning & { readonly window: string; readonly p95Seconds: number };
  readonly retryStorm: AlertTuning & { readonly window: string; readonly retriesPerSecond: number };
  readonly taskFailureRatio: AlertTuning & { readonly window: string; readonly ratio: number };
  readonly collectorRejecting: AlertTuning & { readonly window: string; readonly requestsPerSecond: number };
  readonly collectorDropping: AlertTuning & { readonly window: string };
  readonly collectorRollupSetAside: AlertTuning & { readonly window: string };
  readonly collectorDown: AlertTuning;
  readonly checkpointPendingTooLong: AlertTuning & { readonly seconds: number };
  readonly unapprovedWrite: AlertTuning & { readonly window: string };
  readonly approvedArgumentsModified: AlertTuning & { readonly window: string };
  readonly stalePlanApplied: AlertTuning & { readonly window: string };
  readonly orphanedDestructiveWrite: AlertTuning & { readonly window: string };
  /** Grafana-managed copies of the rules: data source, folder, group. */
  readonly grafana: {
    readonly datasourceUid: string;
    readonly folder: string;
    readonly group: string;
    /** Environment variables Grafana substitutes into the contact points' webhook URLs. */
    readonly onCallWebhookEnv: string;
    readonly nonPagingWebhookEnv: string;
  };
}

export const defaultAlertsConfig: AlertsConfig = {
  runbookBaseUrl: 'https://github.com/mcpscope/mcpscope/blob/main/alerts/runbooks',
  mcpSelector: '',
  collectorSelector: collectorSelectorFor(defaultDeploymentConfig),
  evaluationInterval: '1m',
  // A token that expires and is refreshed fails once; failures that keep coming mean it is not.
  authFailures: { window: '10m', failures: 3, for: '5m', severity: 'critical' },
  authFailureBurst: { window: '2m', failuresPerSecond: 1, for: '1m', severity: 'warning' },
  toolErrorRatio: { window: '5m', ratio: 0.1, for: '10m', severity: 'warning' },
  toolLatency: { window: '5m', p95Seconds: 5, for: '10m', severity: 'warning' },
  retryStorm: { window: '5m', retriesPerSecond: 0.2, for: '5m', severity: 'warning' },
  taskFailureRatio: { window: '15m', ratio: 0.2, for: '15m', severity: 'warning' },
  collectorRejecting: { window: '5m', requestsPerSecond: 0.05, for: '10m', severity: 'warning' },
  collectorDropping: { window: '10m', for: '1m', severity: 'warning' },
  // Tasks stay wrong until a restart retries the trace (after the bug behind it is fixed).
  collectorRollupSetAside: { window: '1h', for: '0m', severity: 'warning' },
  // Without the collector no other alert can fire, the auth page included.
  collectorDown: { for: '5m', severity: 'critical' },
  // Human checkpoints: one bad write is one too many, so these fire on the first.
  checkpointPendingTooLong: { seconds: 900, for: '1m', severity: 'warning' },
  unapprovedWrite: { window: '10m', for: '0m', severity: 'critical' },
  approvedArgumentsModified: { window: '10m', for: '0m', severity: 'critical' },
  stalePlanApplied: { window: '10m', for: '0m', severity: 'warning' },
  orphanedDestructiveWrite: { window: '10m', for: '0m', severity: 'warning' },
  grafana: {
    datasourceUid: defaultDeploymentConfig.datasourceUid,
    folder: 'mcpscope',
    group: 'mcpscope',
    onCallWebhookEnv: 'ONCALL_WEBHOOK_URL',
    nonPagingWebhookEnv: 'NOTIFY_WEBHOOK_URL',
  },
};

/** The alerts for a deployment: its scrape job selects the collector, its data source serves Grafana's copies. */
export const alertsConfigFor = (
  deployment: DeploymentConfig,
  base: AlertsConfig = defaultAlertsConfig,
): AlertsConfig => ({
  ...base,
  collectorSelector: collectorSelectorFor(deployment),
  grafana: { ...base.grafana, datasourceUid: deployment.datasourceUid },
});

/** Receiver names, shared by Alertmanager and Grafana's notification policy. */
export const ON_CALL_RECEIVER = 'on-call';
export const NON_PAGING_RECEIVER = 'non-paging';
