import { authFailureBurstAlert, authFailuresAlert } from './auth-alerts.js';
import { prometheusExpression, type AlertDefinition } from './alert-definition.js';
import {
  collectorDownAlert,
  collectorDroppingAlert,
  collectorRejectingAlert,
  collectorRollupSetAsideAlert,
} from './collector-alerts.js';
import {
  approvedArgumentsModifiedAlert,
  checkpointPendingTooLongAlert,
  orphanedDestructiveWriteAlert,
  stalePlanAppliedAlert,
  unapprovedWriteAlert,
} from './checkpoint-alerts.js';
import { defaultAlertsConfig, type AlertsConfig } from './config.js';
import { taskFailureRatioAlert } from './task-alerts.js';
import { retryStormAlert, toolErrorRatioAlert, toolLatencyAlert } from './tool-alerts.js';

/** Every mcpscope alert, built from the config object. */
export const alertDefinitions = (config: AlertsConfig = defaultAlertsConfig): AlertDefinition[] => [
  authFailuresAlert(config),
  authFailureBurstAlert(config),
  toolErrorRatioAlert(config),
  toolLatencyAlert(config),
  retryStormAlert(config),
  taskFailureRatioAlert(config),
  collectorRejectingAlert(config),
  collectorDroppingAlert(config),
  collectorRollupSetAsideAlert(config),
  collectorDownAlert(config),
  checkpointPendingTooLongAlert(config),
  unapprovedWriteAlert(config),
  approvedArgumentsModifiedAlert(config),
  stalePlanAppliedAlert(config),
  orphanedDestructiveWriteAlert(config),
];

export interface AlertExpressionRef {
  readonly alert: string;
  readonly severity: string;
  /** The full Prometheus rule expression, threshold included. */
  readonly expr: string;
  /** The measured value alone (what Grafana queries), which has data even when nothing fires. */
  readonly measurement: string;
}

/** Every alert expression, so an end-to-end test can evaluate each against a real Prometheus. */
export const listAlertExpressions = (config: AlertsConfig = defaultAlertsConfig): AlertExpressionRef[] =>
  alertDefinitions(config).map((alert) => ({
    alert: alert.name,
    severity: alert.severity,
    expr: prometheusExpression(alert),
    measurement: alert.measurement,
  }));
