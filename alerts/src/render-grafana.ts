import * as alerting from '@grafana/grafana-foundation-sdk/alerting';
import * as expr from '@grafana/grafana-foundation-sdk/expr';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import { stringify } from 'yaml';
import { GRAFANA_VALUE, type AlertDefinition } from './alert-definition.js';
import { alertDefinitions } from './all-alerts.js';
import { defaultAlertsConfig, NON_PAGING_RECEIVER, ON_CALL_RECEIVER, type AlertsConfig } from './config.js';
import { runbookUrl } from './render-prometheus.js';

/** Grafana's uid for its server-side expressions pseudo data source. */
const EXPRESSION_DATASOURCE_UID = '__expr__';
const ORG_ID = 1;

/** Grafana uids are at most 40 characters: `mcpscope-` plus the kebab-cased alert name. */
export const grafanaRuleUid = (alert: AlertDefinition): string =>
  `mcpscope-${alert.name
    .replace(/^Mcpscope/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()}`.slice(0, 40);

/** The rule as the builders make it: Grafana's HTTP API shape. */
const apiRule = (config: AlertsConfig, alert: AlertDefinition): alerting.Rule =>
  new alerting.RuleBuilder(alert.name)
    .uid(grafanaRuleUid(alert))
    .ruleGroup(config.grafana.group)
    .folderUID(config.grafana.folder)
    .orgID(ORG_ID)
    .condition('C')
    .withQuery(
      new alerting.QueryBuilder('A')
        .datasourceUid(config.grafana.datasourceUid)
        .relativeTimeRange({ from: 600, to: 0 })
        .model(
          new prometheus.DataqueryBuilder()
            .refId('A')
            .datasource({ type: 'prometheus', uid: config.grafana.datasourceUid })
            .expr(alert.measurement)
            .instant(),
        ),
    )
    .withQuery(
      new alerting.QueryBuilder('C').datasourceUid(EXPRESSION_DATASOURCE_UID).model(
        new expr.TypeThresholdBuilder()
          .refId('C')
          .expression('A')
          .conditions([
            { evaluator: { type: alert.comparator === '>' ? 'gt' : 'lt', params: [alert.threshold] } },
          ]),
      ),
    )
    .forDuration(alert.for)
    // No series means nothing measured yet (no traffic), not trouble.
    .noDataState('OK')
    .execErrState('Error')
    .labels({ severity: alert.severity })
    .annotations({
      summary: alert.summary,
      description: alert.description(GRAFANA_VALUE),
      runbook_url: runbookUrl(config, alert),
    })
    .isPaused(false)
    .build();

/** API shape to file-provisioning shape: folder by title, time range and data as provisioning spells them. */
const provisionedRule = (rule: alerting.Rule) => ({
  uid: rule.uid,
  title: rule.title,
  condition: rule.condition,
  data: rule.data.map((query) => ({
    refId: query.refId,
    ...(query.relativeTimeRange ? { relativeTimeRange: query.relativeTimeRange } : {}),
    datasourceUid: query.datasourceUid,
    model: query.model,
  })),
  noDataState: rule.noDataState,
  execErrState: rule.execErrState,
  for: rule.for,
  labels: rule.labels,
  annotations: rule.annotations,
  isPaused: rule.isPaused ?? false,
});

const contactPoint = (name: string, uid: string, envVariable: string): alerting.ContactPoint =>
  new alerting.ContactPointBuilder()
    .name(name)
    .uid(uid)
    .type('webhook')
    // Grafana substitutes environment variables in provisioning files.
    .settings({ url: `\${${envVariable}}`, httpMethod: 'POST' })
    .disableResolveMessage(false)
    .build();

const provisionedContactPoint = (point: alerting.ContactPoint) => ({
  orgId: ORG_ID,
  name: point.name,
  receivers: [
    {
      uid: point.uid,
      type: point.type,
      settings: point.settings,
      disableResolveMessage: point.disableResolveMessage ?? false,
    },
  ],
});

const notificationPolicy = (): alerting.NotificationPolicy =>
  new alerting.NotificationPolicyBuilder()
    .receiver(NON_PAGING_RECEIVER)
    .groupBy(['alertname', 'grafana_folder'])
    .groupWait('30s')
    .groupInterval('5m')
    .repeatInterval('4h')
    .routes([
      new alerting.NotificationPolicyBuilder()
        .receiver(ON_CALL_RECEIVER)
        .objectMatchers([['severity', '=', 'critical']])
        .groupWait('10s')
        .repeatInterval('1h'),
    ])
    .build();

/** Everything Grafana needs to evaluate the alerts itself and page on-call, as one provisioning file. */
export const grafanaAlertingProvisioning = (config: AlertsConfig = defaultAlertsConfig) => {
  const rules = alertDefinitions(config).map((alert) => provisionedRule(apiRule(config, alert)));
  const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
  return plain({
    apiVersion: 1,
    groups: [
      {
        orgId: ORG_ID,
        name: config.grafana.group,
        folder: config.grafana.folder,
        interval: config.evaluationInterval,
        rules,
      },
    ],
    contactPoints: [
      provisionedContactPoint(
        contactPoint(ON_CALL_RECEIVER, 'mcpscope-on-call', config.grafana.onCallWebhookEnv),
      ),
      provisionedContactPoint(
        contactPoint(NON_PAGING_RECEIVER, 'mcpscope-non-paging', config.grafana.nonPagingWebhookEnv),
      ),
    ],
    policies: [{ orgId: ORG_ID, ...notificationPolicy() }],
  });
};

export const renderGrafanaAlerting = (config: AlertsConfig = defaultAlertsConfig): string =>
  `# Generated by \`npm run generate\` from alerts/src; do not edit.\n${stringify(grafanaAlertingProvisioning(config), { lineWidth: 0 })}`;
