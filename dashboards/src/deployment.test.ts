import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertsConfigFor, renderAlertFiles } from '../../alerts/src/index.js';
import {
  dashboardsConfigFor,
  defaultDeploymentConfig,
  DeploymentConfigError,
  deploymentFromEnv,
  provisioningConfigFor,
  renderDashboardFiles,
  type DeploymentConfig,
} from './index.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

const elsewhere: DeploymentConfig = {
  scrapeJob: 'otel-mcpscope',
  datasourceUid: 'prom-prod',
  prometheusUrl: 'http://prometheus.monitoring.svc:9090',
};

describe('the deployment settings dashboards, alerts and provisioning share', () => {
  it('default to the compose stack and read each MCPSCOPE_* variable that is set', () => {
    expect(deploymentFromEnv({})).toEqual(defaultDeploymentConfig);
    expect(
      deploymentFromEnv({
        MCPSCOPE_SCRAPE_JOB: 'otel-mcpscope',
        MCPSCOPE_GRAFANA_DATASOURCE_UID: 'prom-prod',
        MCPSCOPE_PROMETHEUS_URL: 'http://prometheus.monitoring.svc:9090',
      }),
    ).toEqual(elsewhere);
  });

  it('refuse a bad value, naming the variable', () => {
    expect(() => deploymentFromEnv({ MCPSCOPE_SCRAPE_JOB: 'a"b' })).toThrow(/^MCPSCOPE_SCRAPE_JOB: /);
    expect(() => deploymentFromEnv({ MCPSCOPE_GRAFANA_DATASOURCE_UID: 'has space' })).toThrow(
      DeploymentConfigError,
    );
    expect(() => deploymentFromEnv({ MCPSCOPE_PROMETHEUS_URL: 'prometheus:9090' })).toThrow(
      /^MCPSCOPE_PROMETHEUS_URL: expected an http/,
    );
  });

  it('reach every generated file: collector panels, alert rules, Grafana alerting and the data source', () => {
    const dashboards = new Map(
      renderDashboardFiles(dashboardsConfigFor(elsewhere), provisioningConfigFor(elsewhere)).map((file) => [
        file.path,
        file.content,
      ]),
    );
    const collectorDashboard = dashboards.get('generated/mcpscope-collector.json') ?? '';
    expect(collectorDashboard).toContain('job=\\"otel-mcpscope\\"');
    expect(collectorDashboard).not.toContain('mcpscope-collector\\"');
    const datasource = parse(dashboards.get('generated/provisioning/datasources/prometheus.yaml') ?? '') as {
      datasources: Array<{ uid: string; url: string }>;
    };
    expect(datasource.datasources[0]).toMatchObject({ uid: 'prom-prod', url: elsewhere.prometheusUrl });

    const alerts = new Map(
      renderAlertFiles(alertsConfigFor(elsewhere)).map((file) => [file.path, file.content]),
    );
    expect(alerts.get('generated/prometheus/mcpscope-rules.yaml')).toContain('up{job="otel-mcpscope"}');
    const grafana = alerts.get('generated/grafana/alerting.yaml') ?? '';
    expect(grafana).toContain('datasourceUid: prom-prod');
    expect(grafana).not.toContain('datasourceUid: prometheus');
  });

  it('are read by `npm run generate`, which stops on a bad one before writing anything', async () => {
    for (const script of ['dashboards/src/generate.ts', 'alerts/src/generate.ts']) {
      const failed = await run(process.execPath, ['--import', 'tsx', script], {
        cwd: root,
        env: { ...process.env, MCPSCOPE_GRAFANA_DATASOURCE_UID: 'not a uid' },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
      );
      expect(failed.code, script).toBe(2);
      expect(failed.stderr).toContain('MCPSCOPE_GRAFANA_DATASOURCE_UID: expected a Grafana data-source uid');
    }
  });
});
