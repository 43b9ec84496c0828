import type { DashboardsConfig } from './config.js';
import {
  configMatchers,
  dashboardFrame,
  labelVariable,
  toDashboardJson,
  type DashboardJson,
} from './dashboard-frame.js';
import { LABEL, METRICS, PROMETHEUS_UP } from './metric-names.js';
import { datasourceRef, row, statPanel, timeseriesPanel } from './panels.js';
import { histogramQuantile, matcher, rate, ratio, selector, sumBy } from './promql.js';

export const COLLECTOR_HEALTH_UID_SUFFIX = 'collector';

/** The collector's own health: ingest, rejections, queue, commit latency, redactions, forwarding. */
export const collectorHealthDashboard = (config: DashboardsConfig): DashboardJson => {
  const datasource = datasourceRef(config.datasourceVariable);
  const collector = [...configMatchers(config.collectorSelector), matcher('instance', '=~', '$instance')];
  const { thresholds } = config;

  const builder = dashboardFrame(config, {
    uidSuffix: COLLECTOR_HEALTH_UID_SUFFIX,
    title: 'mcpscope / Collector health',
    description:
      'Is the mcpscope collector keeping up: ingest, rejections, queue depth, commit latency, redactions.',
    variables: [
      labelVariable(config, {
        name: 'instance',
        label: 'Instance',
        description: 'Collector instances scraped by Prometheus.',
        metric: PROMETHEUS_UP,
        suffix: '',
        labelName: 'instance',
        matchers: configMatchers(config.collectorSelector),
      }),
    ],
  })
    .withRow(row(100, 'At a glance'))
    .withPanel(
      statPanel(
        {
          id: 1,
          title: 'Collectors up',
          description: 'Collector instances whose last scrape succeeded.',
          unit: 'short',
          width: 6,
          queries: [{ expr: `sum(${selector(PROMETHEUS_UP, '', collector)})`, legend: 'up' }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 2,
          title: 'Spans received',
          description: 'Spans per second in OTLP requests the collector accepted, all protocols.',
          unit: 'short',
          width: 6,
          queries: [{ expr: sumBy([], rate(METRICS.spansReceived, '', collector)), legend: 'spans/s' }],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 3,
          title: 'Queue fill',
          description:
            'Spans waiting to be committed, as a share of the queue capacity; at 100% the collector answers retryable overload.',
          unit: 'percentunit',
          width: 6,
          thresholds: [
            { value: thresholds.queueFillWarning, color: 'orange' },
            { value: thresholds.queueFillCritical, color: 'red' },
          ],
          queries: [
            {
              expr: ratio(
                `max(${selector(METRICS.queueDepth, '', collector)})`,
                `max(${selector(METRICS.queueCapacity, '', collector)})`,
              ),
              legend: 'fill',
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      statPanel(
        {
          id: 4,
          title: 'Spans dropped',
          description: 'Spans per second accepted but not stored. Anything above zero is data loss.',
          unit: 'short',
          width: 6,
          thresholds: [{ value: 0.000001, color: 'red' }],
          queries: [{ expr: sumBy([], rate(METRICS.spansDropped, '', collector)), legend: 'dropped/s' }],
        },
        datasource,
      ),
    )
    .withRow(row(101, 'Ingest'))
    .withPanel(
      timeseriesPanel(
        {
          id: 5,
          title: 'Ingest',
          description:
            'Spans per second received by protocol, committed to storage, and delivered again by retrying exporters.',
          unit: 'short',
          width: 12,
          queries: [
            {
              expr: sumBy([LABEL.protocol], rate(METRICS.spansReceived, '', collector)),
              legend: `received {{${LABEL.protocol}}}`,
            },
            { expr: sumBy([], rate(METRICS.spansCommitted, '', collector)), legend: 'committed' },
            { expr: sumBy([], rate(METRICS.duplicateSpans, '', collector)), legend: 'duplicates' },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 6,
          title: 'Rejections by reason',
          description:
            'Requests per second the collector refused, by protocol and reason; overloaded answers are retried by exporters.',
          unit: 'reqps',
          width: 12,
          queries: [
            {
              expr: sumBy([LABEL.protocol, LABEL.reason], rate(METRICS.requestsRejected, '', collector)),
              legend: `{{${LABEL.protocol}}} {{${LABEL.reason}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 7,
          title: 'Queue depth',
          description: 'Spans waiting to be committed, per instance, against the queue capacity.',
          unit: 'short',
          width: 12,
          queries: [
            {
              expr: `max by (instance) (${selector(METRICS.queueDepth, '', collector)})`,
              legend: 'depth {{instance}}',
            },
            {
              expr: `max by (instance) (${selector(METRICS.queueCapacity, '', collector)})`,
              legend: 'capacity {{instance}}',
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 8,
          title: 'Commit latency',
          description: 'p50, p95 and p99 of the time to commit one batch of spans to storage.',
          unit: 's',
          width: 12,
          queries: [0.5, 0.95, 0.99].map((q) => ({
            expr: histogramQuantile(q, METRICS.commitDuration, [], collector),
            legend: `p${Math.round(q * 100)}`,
          })),
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 12,
          title: 'Rollup lag',
          description:
            'Spans acknowledged whose tasks are not rolled up yet, and the p95 time of one rollup; both stay low when rollups keep up with ingest.',
          unit: 'short',
          width: 24,
          queries: [
            {
              expr: `max by (instance) (${selector(METRICS.rollupPending, '', collector)})`,
              legend: 'pending spans {{instance}}',
            },
            {
              expr: histogramQuantile(0.95, METRICS.rollupDuration, [], collector),
              legend: 'rollup p95 (s)',
            },
          ],
        },
        datasource,
      ),
    )
    .withRow(row(102, 'Safety and forwarding'))
    .withPanel(
      timeseriesPanel(
        {
          id: 9,
          title: 'Redactions by rule',
          description:
            'Values per second the collector replaced because they looked like secrets, by rule; these escaped the instrumentation.',
          unit: 'short',
          width: 8,
          queries: [
            {
              expr: sumBy([LABEL.rule], rate(METRICS.redactions, '', collector)),
              legend: `{{${LABEL.rule}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 10,
          title: 'Spans dropped by reason',
          description: 'Spans per second accepted but not stored, by reason. Should stay at zero.',
          unit: 'short',
          width: 8,
          queries: [
            {
              expr: sumBy([LABEL.reason], rate(METRICS.spansDropped, '', collector)),
              legend: `{{${LABEL.reason}}}`,
            },
          ],
        },
        datasource,
      ),
    )
    .withPanel(
      timeseriesPanel(
        {
          id: 11,
          title: 'Forwarded spans',
          description: 'Redacted spans per second forwarded to the downstream OTLP endpoint, by outcome.',
          unit: 'short',
          width: 8,
          queries: [
            {
              expr: sumBy([LABEL.outcome], rate(METRICS.forwardedSpans, '', collector)),
              legend: `{{${LABEL.outcome}}}`,
            },
          ],
        },
        datasource,
      ),
    );
  return toDashboardJson(builder);
};
