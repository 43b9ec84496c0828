import { stringify } from 'yaml';
import type { AlertDefinition } from './alert-definition.js';
import { alertDefinitions } from './all-alerts.js';
import { defaultAlertsConfig, type AlertsConfig } from './config.js';
import {
  LABEL,
  METHOD_TOOLS_CALL,
  METRICS,
  TASK_OUTCOME_FAILED,
  type LabelName,
  type MetricDefinition,
} from './metric-names.js';
import { runbookUrl } from './render-prometheus.js';

type SeriesLabels = Partial<Record<LabelName | 'job' | 'instance' | 'le', string>>;

interface InputSeries {
  readonly series: string;
  /** promtool expanding notation, one sample per minute: `0+60x60` rises by 60 a minute. */
  readonly values: string;
}

interface ExpectedAlert {
  readonly labels: SeriesLabels;
  /** The measured value as the description template renders it, e.g. `20%`. */
  readonly value: string;
}

export interface AlertScenario {
  readonly alert: string;
  readonly firing: {
    readonly story: string;
    readonly input: readonly InputSeries[];
    readonly expect: readonly ExpectedAlert[];
  };
  readonly quiet: { readonly story: string; readonly input: readonly InputSeries[] };
}

/** Late enough for the longest default window plus `for` (15m + 15m) on a one-hour input. */
export const EVAL_TIME = '45m';

const series = (metric: MetricDefinition, suffix: '' | '_bucket' | '_count', labels: SeriesLabels): string =>
  `${metric.name}${suffix}{${Object.entries(labels)
    .map(([name, value]) => `${name}="${value}"`)
    .join(', ')}}`;

/** The `k="v"` pairs of a simple selector such as `job="mcpscope-collector"`. */
const selectorLabels = (selectorText: string): SeriesLabels =>
  Object.fromEntries([...selectorText.matchAll(/(\w+)\s*=\s*"([^"]*)"/g)].map((m) => [m[1], m[2]]));

/** One firing and one quiet scenario per alert, fed to `promtool test rules`. */
export const alertScenarios = (config: AlertsConfig = defaultAlertsConfig): AlertScenario[] => {
  const mcp = selectorLabels(config.mcpSelector);
  const collector = { ...selectorLabels(config.collectorSelector), instance: 'collector:4318' };
  const infra = { ...mcp, [LABEL.serviceName]: 'infra-server' };
  const tool = { ...infra, [LABEL.method]: METHOD_TOOLS_CALL, [LABEL.tool]: 'plan_changes' };
  const auth = (side: string, reason: string) => ({ ...infra, [LABEL.side]: side, [LABEL.reason]: reason });
  const latencyBuckets = (slowPerMinute: number, fastPerMinute: number): InputSeries[] =>
    ['1', '5', '10', '+Inf'].map((le) => ({
      series: series(METRICS.serverOperationDuration, '_bucket', { ...tool, le }),
      values: `0+${le === '1' || le === '5' ? fastPerMinute : fastPerMinute + slowPerMinute}x60`,
    }));

  return [
    {
      alert: 'McpscopeAuthFailures',
      firing: {
        story: 'an expired token is presented once a minute and never refreshed',
        input: [
          { series: series(METRICS.authFailures, '', auth('server', 'expired_token')), values: '0+1x60' },
        ],
        expect: [{ labels: auth('server', 'expired_token'), value: '10' }],
      },
      quiet: {
        story: 'a token expires once and the client refreshes it',
        input: [
          { series: series(METRICS.authFailures, '', auth('client', 'expired_token')), values: '0x20 1x40' },
          {
            series: series(METRICS.tokenRefreshes, '', { ...infra, [LABEL.outcome]: 'success' }),
            values: '0x20 1x40',
          },
        ],
      },
    },
    {
      alert: 'McpscopeAuthFailureBurst',
      firing: {
        story: 'a revoked credential makes every request fail, two per second',
        input: [
          { series: series(METRICS.authFailures, '', auth('server', 'invalid_token')), values: '0+120x60' },
        ],
        expect: [{ labels: { [LABEL.serviceName]: 'infra-server' }, value: '2' }],
      },
      quiet: {
        story: 'a failure a minute is no burst',
        input: [
          { series: series(METRICS.authFailures, '', auth('server', 'invalid_token')), values: '0+1x60' },
        ],
      },
    },
    {
      alert: 'McpscopeToolErrorRatioHigh',
      firing: {
        story: 'one call in five fails',
        input: [
          { series: series(METRICS.serverOperationDuration, '_count', tool), values: '0+48x60' },
          {
            series: series(METRICS.serverOperationDuration, '_count', {
              ...tool,
              [LABEL.errorType]: 'tool_error',
            }),
            values: '0+12x60',
          },
        ],
        expect: [
          { labels: { [LABEL.serviceName]: 'infra-server', [LABEL.tool]: 'plan_changes' }, value: '20%' },
        ],
      },
      quiet: {
        story: 'one call in sixty fails',
        input: [
          { series: series(METRICS.serverOperationDuration, '_count', tool), values: '0+59x60' },
          {
            series: series(METRICS.serverOperationDuration, '_count', {
              ...tool,
              [LABEL.errorType]: '-32603',
            }),
            values: '0+1x60',
          },
        ],
      },
    },
    {
      alert: 'McpscopeToolLatencyHigh',
      firing: {
        story: 'every call takes between five and ten seconds',
        input: latencyBuckets(60, 0),
        expect: [
          { labels: { [LABEL.serviceName]: 'infra-server', [LABEL.tool]: 'plan_changes' }, value: '9.75s' },
        ],
      },
      quiet: { story: 'every call finishes within a second', input: latencyBuckets(0, 60) },
    },
    {
      alert: 'McpscopeRetryStorm',
      firing: {
        story: 'agents retry the same failing call every two seconds',
        input: [
          {
            series: series(METRICS.toolCallRetries, '', { ...infra, [LABEL.tool]: 'plan_changes' }),
            values: '0+30x60',
          },
        ],
        expect: [
          { labels: { [LABEL.serviceName]: 'infra-server', [LABEL.tool]: 'plan_changes' }, value: '500m' },
        ],
      },
      quiet: {
        story: 'a retry a minute',
        input: [
          {
            series: series(METRICS.toolCallRetries, '', { ...infra, [LABEL.tool]: 'plan_changes' }),
            values: '0+1x60',
          },
        ],
      },
    },
    {
      alert: 'McpscopeTaskFailureRatioHigh',
      firing: {
        story: 'three tasks in ten fail',
        input: [
          {
            series: series(METRICS.tasks, '', { ...mcp, [LABEL.outcome]: TASK_OUTCOME_FAILED }),
            values: '0+3x60',
          },
          { series: series(METRICS.tasks, '', { ...mcp, [LABEL.outcome]: 'success' }), values: '0+7x60' },
        ],
        expect: [{ labels: {}, value: '30%' }],
      },
      quiet: {
        story: 'one task in ten fails, two more recover after retries',
        input: [
          {
            series: series(METRICS.tasks, '', { ...mcp, [LABEL.outcome]: TASK_OUTCOME_FAILED }),
            values: '0+1x60',
          },
          { series: series(METRICS.tasks, '', { ...mcp, [LABEL.outcome]: 'recovered' }), values: '0+2x60' },
          { series: series(METRICS.tasks, '', { ...mcp, [LABEL.outcome]: 'success' }), values: '0+7x60' },
        ],
      },
    },
    {
      alert: 'McpscopeCollectorRejectingRequests',
      firing: {
        story: 'the collector answers overloaded six times a minute',
        input: [
          {
            series: series(METRICS.requestsRejected, '', {
              ...collector,
              [LABEL.protocol]: 'grpc',
              [LABEL.reason]: 'overloaded',
            }),
            values: '0+6x60',
          },
        ],
        expect: [{ labels: { instance: collector.instance, [LABEL.reason]: 'overloaded' }, value: '100m' }],
      },
      quiet: {
        story: 'only unauthenticated senders are refused (the auth alerts cover them)',
        input: [
          {
            series: series(METRICS.requestsRejected, '', {
              ...collector,
              [LABEL.protocol]: 'grpc',
              [LABEL.reason]: 'unauthenticated',
            }),
            values: '0+60x60',
          },
        ],
      },
    },
    {
      alert: 'McpscopeCollectorDroppingSpans',
      firing: {
        story: 'a span a minute is accepted and lost',
        input: [
          {
            series: series(METRICS.spansDropped, '', { ...collector, [LABEL.reason]: 'storage_error' }),
            values: '0+1x60',
          },
        ],
        expect: [{ labels: { instance: collector.instance, [LABEL.reason]: 'storage_error' }, value: '10' }],
      },
      quiet: {
        story: 'nothing dropped',
        input: [
          {
            series: series(METRICS.spansDropped, '', { ...collector, [LABEL.reason]: 'storage_error' }),
            values: '0x60',
          },
        ],
      },
    },
    {
      alert: 'McpscopeCollectorRollupSetAside',
      firing: {
        story: 'one trace is set aside after an hour of quiet',
        input: [
          {
            series: series(METRICS.rollupSetAside, '', collector),
            values: '0x30 1x30',
          },
        ],
        expect: [{ labels: { instance: collector.instance }, value: '1' }],
      },
      quiet: {
        story: 'every rollup succeeds',
        input: [{ series: series(METRICS.rollupSetAside, '', collector), values: '0x60' }],
      },
    },
    {
      alert: 'McpscopeCollectorDown',
      firing: {
        story: 'the collector stops answering scrapes after twenty minutes',
        input: [
          {
            series: `up{${Object.entries(collector)
              .map(([k, v]) => `${k}="${v}"`)
              .join(', ')}}`,
            values: '1x20 0x40',
          },
        ],
        expect: [{ labels: collector, value: '0' }],
      },
      quiet: {
        story: 'the collector answers every scrape',
        input: [
          {
            series: `up{${Object.entries(collector)
              .map(([k, v]) => `${k}="${v}"`)
              .join(', ')}}`,
            values: '1x60',
          },
        ],
      },
    },
    ...checkpointScenarios(infra),
  ];
};

/** The human-checkpoint alerts: each write verdict, the orphaned destructive write, a long wait. */
const checkpointScenarios = (infra: SeriesLabels): AlertScenario[] => {
  const apply = { ...infra, [LABEL.tool]: 'apply' };
  const writes = (verdict: string, values: string): InputSeries => ({
    series: series(METRICS.writes, '', { ...apply, [LABEL.verdict]: verdict }),
    values,
  });
  const everyWriteApproved: InputSeries[] = [
    writes('approved', '0+1x60'),
    ...['unapproved', 'modified', 'stale'].map((verdict) => writes(verdict, '0x60')),
  ];
  const verdictScenario = (alert: string, verdict: string, story: string): AlertScenario => ({
    alert,
    firing: {
      story,
      input: [writes('approved', '0+1x60'), writes(verdict, '0+1x60')],
      expect: [{ labels: apply, value: '10' }],
    },
    quiet: { story: 'every write runs as approved', input: everyWriteApproved },
  });
  const orphaned = (destructive: string, values: string): InputSeries => ({
    series: series(METRICS.orphanedWrites, '', { ...apply, [LABEL.destructive]: destructive }),
    values,
  });
  return [
    {
      alert: 'McpscopeCheckpointPendingTooLong',
      firing: {
        story: 'an apply has waited for approval since the start, nobody answers',
        input: [{ series: series(METRICS.checkpointPendingOldest, '', infra), values: '0+60x60' }],
        expect: [{ labels: infra, value: '2.7k' }],
      },
      quiet: {
        story: 'approvals come within five minutes',
        input: [{ series: series(METRICS.checkpointPendingOldest, '', infra), values: '0+60x5 0x54' }],
      },
    },
    verdictScenario('McpscopeUnapprovedWrite', 'unapproved', 'an apply runs every minute with no approval'),
    verdictScenario(
      'McpscopeApprovedArgumentsModified',
      'modified',
      'the agent changes an approved apply before running it',
    ),
    verdictScenario('McpscopeStalePlanApplied', 'stale', 'the state drifts between plan and apply'),
    {
      alert: 'McpscopeOrphanedDestructiveWrite',
      firing: {
        story: 'callers time out while the server keeps applying',
        input: [orphaned('true', '0+1x60'), orphaned('false', '0x60')],
        expect: [{ labels: apply, value: '10' }],
      },
      quiet: {
        story: 'only a non-destructive import is orphaned',
        input: [orphaned('true', '0x60'), orphaned('false', '0+1x60')],
      },
    },
  ];
};

/** Fills a Prometheus annotation template the way the rule engine would, for the labels and value given. */
const expandTemplate = (template: string, labels: SeriesLabels, value: string): string =>
  template
    .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_whole, name: string) => labels[name as keyof SeriesLabels] ?? '')
    .replace(/\{\{ \$value \| \w+ \}\}/g, value);

/** A `promtool test rules` file: each alert fires in its firing scenario and stays quiet in the other. */
export const renderPromtoolTests = (
  config: AlertsConfig = defaultAlertsConfig,
  ruleFile = 'mcpscope-rules.yaml',
): string => {
  const alerts = new Map<string, AlertDefinition>(
    alertDefinitions(config).map((alert) => [alert.name, alert]),
  );
  const tests = alertScenarios(config).flatMap((scenario) => {
    const alert = alerts.get(scenario.alert);
    if (!alert) throw new Error(`scenario for unknown alert ${scenario.alert}`);
    return [
      {
        name: `${alert.name} fires: ${scenario.firing.story}`,
        interval: '1m',
        input_series: scenario.firing.input,
        alert_rule_test: [
          {
            eval_time: EVAL_TIME,
            alertname: alert.name,
            exp_alerts: scenario.firing.expect.map((expected) => ({
              exp_labels: { severity: alert.severity, ...expected.labels },
              exp_annotations: {
                summary: alert.summary,
                description: expandTemplate(alert.description('$value'), expected.labels, expected.value),
                runbook_url: runbookUrl(config, alert),
              },
            })),
          },
        ],
      },
      {
        name: `${alert.name} stays quiet: ${scenario.quiet.story}`,
        interval: '1m',
        input_series: scenario.quiet.input,
        alert_rule_test: [{ eval_time: EVAL_TIME, alertname: alert.name, exp_alerts: [] }],
      },
    ];
  });
  return `# Generated by \`npm run generate\` from alerts/src; do not edit. Run: promtool test rules <this file>\n${stringify(
    { rule_files: [ruleFile], evaluation_interval: config.evaluationInterval, tests },
    { lineWidth: 0 },
  )}`;
};
