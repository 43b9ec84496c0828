import { defaultAlertsConfig, type AlertsConfig } from './config.js';
import { renderPromtoolTests } from './promtool-cases.js';
import { renderAlertmanagerConfig } from './render-alertmanager.js';
import { renderGrafanaAlerting } from './render-grafana.js';
import { renderPrometheusRules } from './render-prometheus.js';

export interface GeneratedFile {
  /** Path relative to the `alerts/` folder. */
  readonly path: string;
  readonly content: string;
}

export const PROMETHEUS_RULES_PATH = 'generated/prometheus/mcpscope-rules.yaml';
export const PROMTOOL_TESTS_PATH = 'generated/prometheus/mcpscope-rules.test.yaml';
export const GRAFANA_ALERTING_PATH = 'generated/grafana/alerting.yaml';
export const ALERTMANAGER_CONFIG_PATH = 'generated/alertmanager/alertmanager.yml';

/** Every file under `alerts/generated/`, rendered in memory. */
export const renderAlertFiles = (config: AlertsConfig = defaultAlertsConfig): GeneratedFile[] => [
  { path: PROMETHEUS_RULES_PATH, content: renderPrometheusRules(config) },
  { path: PROMTOOL_TESTS_PATH, content: renderPromtoolTests(config, 'mcpscope-rules.yaml') },
  { path: GRAFANA_ALERTING_PATH, content: renderGrafanaAlerting(config) },
  { path: ALERTMANAGER_CONFIG_PATH, content: renderAlertmanagerConfig() },
];
