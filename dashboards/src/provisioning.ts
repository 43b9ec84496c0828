import { defaultDeploymentConfig, type DeploymentConfig } from './deployment.js';

/** Where the compose stack's Grafana finds Prometheus and the dashboard files. */
export interface GrafanaProvisioningConfig {
  readonly datasourceName: string;
  /** Uid of the provisioned Prometheus data source; Grafana-managed alert rules query it. */
  readonly datasourceUid: string;
  readonly prometheusUrl: string;
  /** Prometheus scrape interval, so Grafana's `$__rate_interval` is at least four scrapes. */
  readonly scrapeInterval: string;
  readonly folder: string;
  /** Directory inside the Grafana container holding the dashboard JSON files. */
  readonly dashboardsPath: string;
}

export const defaultGrafanaProvisioningConfig: GrafanaProvisioningConfig = {
  datasourceName: 'Prometheus',
  datasourceUid: defaultDeploymentConfig.datasourceUid,
  prometheusUrl: defaultDeploymentConfig.prometheusUrl,
  scrapeInterval: '15s',
  folder: 'mcpscope',
  dashboardsPath: '/var/lib/grafana/dashboards/mcpscope',
};

/** Provisioning for a deployment: its data-source uid and Prometheus URL. */
export const provisioningConfigFor = (
  deployment: DeploymentConfig,
  base: GrafanaProvisioningConfig = defaultGrafanaProvisioningConfig,
): GrafanaProvisioningConfig => ({
  ...base,
  datasourceUid: deployment.datasourceUid,
  prometheusUrl: deployment.prometheusUrl,
});

/** Grafana data-source provisioning file (apiVersion 1). */
export const datasourceProvisioning = (config: GrafanaProvisioningConfig) => ({
  apiVersion: 1,
  datasources: [
    {
      name: config.datasourceName,
      uid: config.datasourceUid,
      type: 'prometheus',
      access: 'proxy',
      url: config.prometheusUrl,
      isDefault: true,
      editable: false,
      jsonData: { timeInterval: config.scrapeInterval, httpMethod: 'POST' },
    },
  ],
});

/** Grafana dashboard-provider provisioning file (apiVersion 1). */
export const dashboardProvisioning = (config: GrafanaProvisioningConfig) => ({
  apiVersion: 1,
  providers: [
    {
      name: 'mcpscope',
      folder: config.folder,
      folderUid: config.folder,
      type: 'file',
      disableDeletion: true,
      allowUiUpdates: false,
      updateIntervalSeconds: 30,
      options: { path: config.dashboardsPath, foldersFromFilesStructure: false },
    },
  ],
});
