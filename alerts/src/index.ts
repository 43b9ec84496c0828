export {
  GRAFANA_VALUE,
  PROMETHEUS_VALUE,
  prometheusExpression,
  type AlertDefinition,
} from './alert-definition.js';
export { alertDefinitions, listAlertExpressions, type AlertExpressionRef } from './all-alerts.js';
export { authFailureBurstAlert, authFailuresAlert } from './auth-alerts.js';
export { collectorDownAlert, collectorDroppingAlert, collectorRejectingAlert } from './collector-alerts.js';
export {
  alertsConfigFor,
  defaultAlertsConfig,
  NON_PAGING_RECEIVER,
  ON_CALL_RECEIVER,
  type AlertsConfig,
  type Severity,
} from './config.js';
export { alertScenarios, renderPromtoolTests, type AlertScenario } from './promtool-cases.js';
export {
  alertmanagerConfig,
  NON_PAGING_WEBHOOK_PLACEHOLDER,
  ON_CALL_WEBHOOK_PLACEHOLDER,
  renderAlertmanagerConfig,
} from './render-alertmanager.js';
export { grafanaAlertingProvisioning, grafanaRuleUid, renderGrafanaAlerting } from './render-grafana.js';
export { prometheusRuleGroups, renderPrometheusRules, runbookUrl } from './render-prometheus.js';
export {
  ALERTMANAGER_CONFIG_PATH,
  GRAFANA_ALERTING_PATH,
  PROMETHEUS_RULES_PATH,
  PROMTOOL_TESTS_PATH,
  renderAlertFiles,
  type GeneratedFile,
} from './render.js';
export { taskFailureRatioAlert } from './task-alerts.js';
export { retryStormAlert, toolErrorRatioAlert, toolLatencyAlert } from './tool-alerts.js';
