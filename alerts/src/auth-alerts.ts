import {
  increaseWithNewSeries,
  rangeFunction,
  selector,
  sumBy,
  type AlertDefinition,
} from './alert-definition.js';
import type { AlertsConfig } from './config.js';
import { LABEL, METRICS } from './metric-names.js';

/** Pages on-call: auth failures that keep coming (an expired token that is refreshed fails once). */
export const authFailuresAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeAuthFailures',
  group: 'mcpscope-auth',
  severity: config.authFailures.severity,
  for: config.authFailures.for,
  measurement: sumBy(
    [LABEL.serviceName, LABEL.side, LABEL.reason],
    increaseWithNewSeries(
      selector(METRICS.authFailures, '', [config.mcpSelector]),
      config.authFailures.window,
    ),
  ),
  comparator: '>',
  threshold: config.authFailures.failures,
  summary: 'MCP requests keep failing authentication; agents cannot reach their tools.',
  description: (value) =>
    `{{ $labels.${LABEL.serviceName} }} recorded {{ ${value} | humanize }} auth failures on the {{ $labels.${LABEL.side} }} side ` +
    `with reason {{ $labels.${LABEL.reason} }} in the last ${config.authFailures.window}.`,
});

/** A sudden wave of auth failures in one service: a revoked credential, a bad deploy, or an attack. */
export const authFailureBurstAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeAuthFailureBurst',
  group: 'mcpscope-auth',
  severity: config.authFailureBurst.severity,
  for: config.authFailureBurst.for,
  measurement: sumBy(
    [LABEL.serviceName],
    rangeFunction(
      'rate',
      selector(METRICS.authFailures, '', [config.mcpSelector]),
      config.authFailureBurst.window,
    ),
  ),
  comparator: '>',
  threshold: config.authFailureBurst.failuresPerSecond,
  summary: 'One service is seeing a burst of authentication failures.',
  description: (value) =>
    `{{ $labels.${LABEL.serviceName} }} is failing {{ ${value} | humanize }} auth checks per second ` +
    `(threshold ${config.authFailureBurst.failuresPerSecond}/s over ${config.authFailureBurst.window}).`,
});
