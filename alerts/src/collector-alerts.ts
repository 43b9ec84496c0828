import { matcher, rangeFunction, selector, sumBy, type AlertDefinition } from './alert-definition.js';
import type { AlertsConfig } from './config.js';
import { LABEL, METRICS, REJECTION_UNAUTHENTICATED } from './metric-names.js';

/** Rejections other than failed authentication (which the auth alerts cover). */
export const collectorRejectingAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeCollectorRejectingRequests',
  group: 'mcpscope-collector',
  severity: config.collectorRejecting.severity,
  for: config.collectorRejecting.for,
  measurement: sumBy(
    ['instance', LABEL.reason],
    rangeFunction(
      'rate',
      selector(METRICS.requestsRejected, '', [
        config.collectorSelector,
        matcher(LABEL.reason, '!=', REJECTION_UNAUTHENTICATED),
      ]),
      config.collectorRejecting.window,
    ),
  ),
  comparator: '>',
  threshold: config.collectorRejecting.requestsPerSecond,
  summary: 'The mcpscope collector is refusing telemetry.',
  description: (value) =>
    `Collector {{ $labels.instance }} rejects {{ ${value} | humanize }} requests per second with reason {{ $labels.${LABEL.reason} }} ` +
    `over the last ${config.collectorRejecting.window}.`,
});

export const collectorDroppingAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeCollectorDroppingSpans',
  group: 'mcpscope-collector',
  severity: config.collectorDropping.severity,
  for: config.collectorDropping.for,
  measurement: sumBy(
    ['instance', LABEL.reason],
    rangeFunction(
      'increase',
      selector(METRICS.spansDropped, '', [config.collectorSelector]),
      config.collectorDropping.window,
    ),
  ),
  comparator: '>',
  threshold: 0,
  summary: 'The mcpscope collector accepted spans it did not store.',
  description: (value) =>
    `Collector {{ $labels.instance }} dropped {{ ${value} | humanize }} accepted spans with reason {{ $labels.${LABEL.reason} }} ` +
    `in the last ${config.collectorDropping.window}.`,
});

export const collectorRollupSetAsideAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeCollectorRollupSetAside',
  group: 'mcpscope-collector',
  severity: config.collectorRollupSetAside.severity,
  for: config.collectorRollupSetAside.for,
  measurement: sumBy(
    ['instance'],
    rangeFunction(
      'increase',
      selector(METRICS.rollupSetAside, '', [config.collectorSelector]),
      config.collectorRollupSetAside.window,
    ),
  ),
  comparator: '>',
  threshold: 0,
  summary:
    'The mcpscope collector set aside traces whose rollup keeps failing; their tasks are not up to date.',
  description: (value) =>
    `Collector {{ $labels.instance }} set aside {{ ${value} | humanize }} traces in the last ` +
    `${config.collectorRollupSetAside.window}: their spans are stored, their tasks wait for the next start.`,
});

export const collectorDownAlert = (config: AlertsConfig): AlertDefinition => ({
  name: 'McpscopeCollectorDown',
  group: 'mcpscope-collector',
  severity: config.collectorDown.severity,
  for: config.collectorDown.for,
  measurement: `up{${config.collectorSelector}}`,
  comparator: '<',
  threshold: 1,
  summary:
    'Prometheus cannot scrape the mcpscope collector; telemetry and every other mcpscope alert are blind.',
  description: () =>
    `Collector {{ $labels.instance }} (job {{ $labels.job }}) has not answered a scrape for ${config.collectorDown.for}.`,
});
