import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  alertDefinitions,
  defaultAlertsConfig,
  grafanaRuleUid,
  NON_PAGING_RECEIVER,
  ON_CALL_RECEIVER,
  renderGrafanaAlerting,
} from './index.js';

interface ProvisionedRule {
  uid: string;
  title: string;
  condition: string;
  for: string;
  data: Array<{ refId: string; datasourceUid: string; model: Record<string, unknown> }>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  [key: string]: unknown;
}

const provisioning = () =>
  parse(renderGrafanaAlerting()) as {
    apiVersion: number;
    groups: Array<{
      orgId: number;
      name: string;
      folder: string;
      interval: string;
      rules: ProvisionedRule[];
    }>;
    contactPoints: Array<{
      name: string;
      receivers: Array<{ uid: string; type: string; settings: { url: string } }>;
    }>;
    policies: Array<{ receiver: string; routes: Array<{ receiver: string; object_matchers: string[][] }> }>;
  };

describe('Grafana alert provisioning', () => {
  it('holds one Grafana-managed rule per alert, in the file-provisioning shape', () => {
    const file = provisioning();
    expect(file.apiVersion).toBe(1);
    const [group] = file.groups;
    expect(group).toMatchObject({ orgId: 1, folder: defaultAlertsConfig.grafana.folder, interval: '1m' });
    const alerts = alertDefinitions();
    expect(group!.rules.map((r) => r.title)).toEqual(alerts.map((a) => a.name));
    const uids = group!.rules.map((r) => r.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const [index, rule] of group!.rules.entries()) {
      const alert = alerts[index]!;
      expect(rule.uid).toBe(grafanaRuleUid(alert));
      expect(rule.uid.length).toBeLessThanOrEqual(40);
      // API-shape keys that file provisioning does not read.
      for (const key of ['folderUID', 'ruleGroup', 'orgID', 'keepFiringFor', 'provenance'])
        expect(rule).not.toHaveProperty(key);
      expect(rule.for).toBe(alert.for);
      expect(rule.condition).toBe('C');
      expect(rule.data[0]).toMatchObject({
        refId: 'A',
        datasourceUid: defaultAlertsConfig.grafana.datasourceUid,
        model: { expr: alert.measurement, instant: true },
      });
      expect(rule.data[1]).toMatchObject({
        refId: 'C',
        datasourceUid: '__expr__',
        model: {
          type: 'threshold',
          expression: 'A',
          conditions: [
            { evaluator: { type: alert.comparator === '>' ? 'gt' : 'lt', params: [alert.threshold] } },
          ],
        },
      });
      expect(rule.labels).toEqual({ severity: alert.severity });
      if (alert.description('first') !== alert.description('second')) {
        expect(rule.annotations.description).toContain('$values.A.Value');
      }
      // Grafana substitutes environment variables in provisioning files outside annotations.
      expect(JSON.stringify({ ...rule, annotations: undefined })).not.toContain('$');
    }
  });

  it('routes critical alerts to the on-call contact point and the rest to a non-paging one', () => {
    const file = provisioning();
    expect(file.contactPoints.map((c) => c.name)).toEqual([ON_CALL_RECEIVER, NON_PAGING_RECEIVER]);
    expect(file.contactPoints[0]!.receivers[0]).toMatchObject({
      type: 'webhook',
      settings: { url: '${ONCALL_WEBHOOK_URL}' },
    });
    expect(file.policies).toHaveLength(1);
    expect(file.policies[0]).toMatchObject({
      receiver: NON_PAGING_RECEIVER,
      routes: [{ receiver: ON_CALL_RECEIVER, object_matchers: [['severity', '=', 'critical']] }],
    });
  });
});
