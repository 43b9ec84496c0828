/**
 * What the dashboards, the alert rules and Grafana's provisioning must agree on about where mcpscope
 * runs: the job Prometheus scrapes the collector under, the Grafana data source, and where Grafana
 * reaches Prometheus. One object; `npm run generate` reads it from the environment.
 */
export interface DeploymentConfig {
  /** The `job` label Prometheus gives the collector's series (its scrape job name). */
  readonly scrapeJob: string;
  /** Uid of Grafana's Prometheus data source: provisioned under it, queried by Grafana-managed alerts. */
  readonly datasourceUid: string;
  /** Where Grafana reaches Prometheus. */
  readonly prometheusUrl: string;
}

/** The compose stack's: `deploy/prometheus/prometheus.yml` and the `prometheus` service. */
export const defaultDeploymentConfig: DeploymentConfig = {
  scrapeJob: 'mcpscope-collector',
  datasourceUid: 'prometheus',
  prometheusUrl: 'http://prometheus:9090',
};

/** The variables `npm run generate` reads, one per setting. */
export const DEPLOYMENT_ENV = {
  scrapeJob: 'MCPSCOPE_SCRAPE_JOB',
  datasourceUid: 'MCPSCOPE_GRAFANA_DATASOURCE_UID',
  prometheusUrl: 'MCPSCOPE_PROMETHEUS_URL',
} as const satisfies Record<keyof DeploymentConfig, string>;

export class DeploymentConfigError extends Error {
  override readonly name = 'DeploymentConfigError';
}

/** Prometheus job names are free text; the selectors quote them, so quotes and backslashes are refused. */
const JOB_NAME = /^[^"\\\n]+$/;
/** Grafana data-source uids: letters, digits, `-`, `_`, at most 40. */
const DATASOURCE_UID = /^[A-Za-z0-9_-]{1,40}$/;

/** The defaults, with each `MCPSCOPE_*` variable that is set in its place; a bad value names the variable. */
export const deploymentFromEnv = (env: Readonly<Record<string, string | undefined>>): DeploymentConfig => {
  const value = (key: keyof DeploymentConfig) =>
    env[DEPLOYMENT_ENV[key]]?.trim() || defaultDeploymentConfig[key];
  const deployment = {
    scrapeJob: value('scrapeJob'),
    datasourceUid: value('datasourceUid'),
    prometheusUrl: value('prometheusUrl'),
  };
  if (!JOB_NAME.test(deployment.scrapeJob)) {
    throw new DeploymentConfigError(
      `${DEPLOYMENT_ENV.scrapeJob}: expected a Prometheus job name without quotes or backslashes`,
    );
  }
  if (!DATASOURCE_UID.test(deployment.datasourceUid)) {
    throw new DeploymentConfigError(
      `${DEPLOYMENT_ENV.datasourceUid}: expected a Grafana data-source uid (letters, digits, - and _, at most 40)`,
    );
  }
  let url: URL | undefined;
  try {
    url = new URL(deployment.prometheusUrl);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['http:', 'https:'].includes(url.protocol)) {
    throw new DeploymentConfigError(
      `${DEPLOYMENT_ENV.prometheusUrl}: expected an http:// or https:// URL, e.g. http://127.0.0.1:9090`,
    );
  }
  return deployment;
};

/** The label matcher that selects the collector's own series. */
export const collectorSelectorFor = (deployment: DeploymentConfig): string => `job="${deployment.scrapeJob}"`;
