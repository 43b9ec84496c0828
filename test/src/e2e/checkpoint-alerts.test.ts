/**
 * The human-checkpoint alerts with real parts only: the collector CLI with a fresh DuckDB file, spans
 * from the real OpenTelemetry SDK over OTLP/gRPC and OTLP/HTTP, real Prometheus scraping every second
 * with the generated rules, real Alertmanager delivering to webhooks in this test. A clean run fires
 * none of them; the scenario with every case fires each, critical ones paging.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertmanagerConfig,
  defaultAlertsConfig,
  NON_PAGING_WEBHOOK_PLACEHOLDER,
  ON_CALL_WEBHOOK_PLACEHOLDER,
  renderPrometheusRules,
  type AlertsConfig,
} from '../../../alerts/src/index.js';
import {
  emitCleanRun,
  emitScenario,
  startExporters,
  type ScenarioExporters,
} from '../support/checkpoint-scenario.js';
import { startCollectorProcess, type CollectorProcess } from '../support/collector-process.js';
import { ensureDebianTool } from '../support/debian-tools.js';
import { eventually, freePort } from '../support/processes.js';
import { startPrometheusStack, type PrometheusStack } from '../support/prometheus-stack.js';

const CHECKPOINT_ALERTS = {
  McpscopeCheckpointPendingTooLong: 'warning',
  McpscopeUnapprovedWrite: 'critical',
  McpscopeApprovedArgumentsModified: 'critical',
  McpscopeStalePlanApplied: 'warning',
  McpscopeOrphanedDestructiveWrite: 'warning',
} as const;

/** The generated rules through the config object only: evaluated every second, firing after 1 s. */
const shortened = (): AlertsConfig => {
  const config = defaultAlertsConfig;
  const quick = { for: '1s', window: '2m' };
  return {
    ...config,
    evaluationInterval: '1s',
    // The scenario's pending checkpoint was requested two and a half minutes ago.
    checkpointPendingTooLong: { ...config.checkpointPendingTooLong, for: '1s', seconds: 60 },
    unapprovedWrite: { ...config.unapprovedWrite, ...quick },
    approvedArgumentsModified: { ...config.approvedArgumentsModified, ...quick },
    stalePlanApplied: { ...config.stalePlanApplied, ...quick },
    orphanedDestructiveWrite: { ...config.orphanedDestructiveWrite, ...quick },
  };
};

const alertmanagerYaml = () => {
  const config = alertmanagerConfig() as { route: Record<string, unknown> };
  config.route = { ...config.route, group_wait: '1s', group_interval: '1s', repeat_interval: '1h' };
  return stringify(config)
    .replaceAll(ON_CALL_WEBHOOK_PLACEHOLDER, '{{WEBHOOK_URL}}')
    .replaceAll(NON_PAGING_WEBHOOK_PLACEHOLDER, '{{WARNING_WEBHOOK_URL}}');
};

let dir: string;
let collector: CollectorProcess;
let stack: PrometheusStack;
let exporters: ScenarioExporters;
let firingAfterCleanRun: string[] = [];

const checkpointAlertsFiring = async () =>
  (await stack.firingAlerts())
    .map((alert) => alert.labels.alertname ?? '')
    .filter((name) => name in CHECKPOINT_ALERTS);

beforeAll(async () => {
  ensureDebianTool('prometheus');
  const alertmanagerBinary = ensureDebianTool('alertmanager');
  dir = await mkdtemp(join(tmpdir(), 'mcpscope-checkpoint-alerts-'));
  const httpPort = await freePort();
  collector = await startCollectorProcess({
    httpPort,
    grpcPort: await freePort(),
    dbPath: join(dir, 'mcpscope.duckdb'),
    env: { MCPSCOPE_TASK_SETTLE_SECONDS: '1' },
  });
  stack = await startPrometheusStack({
    dir,
    collectorTarget: `127.0.0.1:${httpPort}`,
    rules: renderPrometheusRules(shortened()),
    alertmanagerConfig: alertmanagerYaml(),
    alertmanagerBinary,
  });
  exporters = startExporters({ grpcUrl: collector.grpcUrl, httpUrl: collector.url });

  // A clean run first: every write approved as proposed, nothing pending.
  await emitCleanRun(exporters);
  await eventually(
    async () => {
      const [approved] = await stack.query('sum(mcpscope_writes_total{verdict="approved"})');
      return approved?.value[1] === '3' ? true : undefined;
    },
    { timeoutMs: 30_000, what: 'the clean run’s three approved writes in Prometheus' },
  );
  await new Promise((resolve) => setTimeout(resolve, 5000));
  firingAfterCleanRun = await checkpointAlertsFiring();

  await emitScenario(exporters);
}, 120_000);

afterAll(async () => {
  await exporters?.shutdown();
  await Promise.allSettled([stack?.stop(), collector?.process.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('human-checkpoint alerts', () => {
  it('stay quiet on a clean run', () => {
    expect(firingAfterCleanRun).toEqual([]);
  });

  it('each fire on the scenario, and the critical ones page on-call', async () => {
    const firing = await eventually(
      async () => {
        const names = new Set(await checkpointAlertsFiring());
        return Object.keys(CHECKPOINT_ALERTS).every((name) => names.has(name)) ? names : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'every checkpoint alert to fire' },
    );
    expect([...firing].sort()).toEqual(Object.keys(CHECKPOINT_ALERTS).sort());
    const delivered = await eventually(
      () => {
        const names = new Set(stack.delivered.map((alert) => alert.labels.alertname));
        return Object.keys(CHECKPOINT_ALERTS).every((name) => names.has(name)) ? stack.delivered : undefined;
      },
      { timeoutMs: 30_000, what: 'Alertmanager to deliver every checkpoint alert' },
    );
    for (const [name, severity] of Object.entries(CHECKPOINT_ALERTS)) {
      const receivers = new Set(delivered.filter((a) => a.labels.alertname === name).map((a) => a.receiver));
      expect([...receivers], name).toEqual([severity === 'critical' ? 'on-call' : 'warnings']);
    }
  });
});
