import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { lintExpression } from '../../dashboards/src/lint/dashboard-lint.js';
import { ensureDebianTool } from '../../test/src/support/debian-tools.js';
import { defaultDeploymentConfig } from '../../dashboards/src/index.js';
import {
  alertDefinitions,
  alertsConfigFor,
  alertScenarios,
  defaultAlertsConfig,
  renderPromtoolTests,
  renderPrometheusRules,
  type AlertsConfig,
} from './index.js';

const run = promisify(execFile);
const runbooksDir = new URL('../runbooks/', import.meta.url);

/** Runs a tool and returns its exit code and output instead of throwing on a non-zero exit. */
const tool = async (binary: string, args: string[], cwd: string) => {
  try {
    const { stdout, stderr } = await run(binary, args, { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
};

describe('Prometheus alert rules', () => {
  let promtool: string;
  let dir: string;

  const check = async (config: AlertsConfig, tests: string = renderPromtoolTests(defaultAlertsConfig)) => {
    await writeFile(join(dir, 'mcpscope-rules.yaml'), renderPrometheusRules(config));
    await writeFile(join(dir, 'mcpscope-rules.test.yaml'), tests);
    return {
      rules: await tool(promtool, ['check', 'rules', 'mcpscope-rules.yaml'], dir),
      tests: await tool(promtool, ['test', 'rules', 'mcpscope-rules.test.yaml'], dir),
    };
  };

  beforeAll(async () => {
    promtool = ensureDebianTool('promtool');
    dir = await mkdtemp(join(tmpdir(), 'mcpscope-promtool-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pass `promtool check rules` and `promtool test rules`: every alert fires in its scenario and stays quiet in the other', async () => {
    const result = await check(defaultAlertsConfig);
    expect(result.rules.output).toContain(`SUCCESS: ${alertDefinitions().length} rules found`);
    expect(result.rules.code).toBe(0);
    expect(result.tests.output).toContain('SUCCESS');
    expect(result.tests.code).toBe(0);
  });

  it('have one firing and one quiet scenario per alert', () => {
    const scenarios = alertScenarios();
    expect(scenarios.map((s) => s.alert).sort()).toEqual(
      alertDefinitions()
        .map((a) => a.name)
        .sort(),
    );
    for (const scenario of scenarios)
      expect(scenario.firing.expect.length, scenario.alert).toBeGreaterThan(0);
    const tests = (
      parse(renderPromtoolTests()) as { tests: Array<{ alert_rule_test: Array<{ exp_alerts: unknown[] }> }> }
    ).tests;
    expect(tests).toHaveLength(scenarios.length * 2);
    expect(tests.filter((t) => t.alert_rule_test[0]!.exp_alerts.length === 0)).toHaveLength(scenarios.length);
  });

  it('make promtool fail when a threshold no longer matches the scenario', async () => {
    const result = await check({
      ...defaultAlertsConfig,
      authFailures: { ...defaultAlertsConfig.authFailures, failures: 1000 },
    });
    expect(result.rules.code).toBe(0);
    expect(result.tests.code).not.toBe(0);
    expect(result.tests.output).toContain('McpscopeAuthFailures fires');
  });

  it('take their `for` durations and thresholds from the config object, so a test can shorten them', async () => {
    const shortened: AlertsConfig = {
      ...defaultAlertsConfig,
      authFailures: { ...defaultAlertsConfig.authFailures, for: '0s', window: '1m', failures: 0 },
      collectorDown: { ...defaultAlertsConfig.collectorDown, for: '15s' },
    };
    const groups = (
      parse(renderPrometheusRules(shortened)) as {
        groups: Array<{ rules: Array<{ alert: string; for: string; expr: string }> }>;
      }
    ).groups;
    const rules = new Map(groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
    expect(rules.get('McpscopeAuthFailures')).toMatchObject({
      for: '0s',
      expr: expect.stringMatching(/\[1m\][^]*offset 1m\)\) > 0$/),
    });
    expect(rules.get('McpscopeCollectorDown')?.for).toBe('15s');
    expect((await check(shortened)).rules.code).toBe(0);
  });

  it('follow a scrape job other than the default when the config names it', async () => {
    const otherJob = alertsConfigFor({ ...defaultDeploymentConfig, scrapeJob: 'otel-mcpscope' });
    const rules = renderPrometheusRules(otherJob);
    expect(rules).toContain('up{job="otel-mcpscope"}');
    expect(rules).not.toContain('mcpscope-collector"');
    // Every scenario, McpscopeCollectorDown included, runs on series scraped under the other job.
    const tests = renderPromtoolTests(otherJob);
    expect(tests).toContain('job="otel-mcpscope"');
    const result = await check(otherJob, tests);
    expect(result.rules.code).toBe(0);
    expect(result.tests.output).toContain('SUCCESS');
    expect(result.tests.code).toBe(0);
    // Rules left at the default job stay silent when the collector is scraped under another: why it is configurable.
    const mismatched = await check(defaultAlertsConfig, tests);
    expect(mismatched.tests.code).not.toBe(0);
    expect(mismatched.tests.output).toContain('McpscopeCollectorDown fires');
  });

  it('read only series and labels the collector exposes', () => {
    for (const alert of alertDefinitions()) {
      expect(lintExpression(alert.measurement, { requireRateInterval: false }), alert.name).toEqual([]);
    }
  });

  it('follow the naming and annotation conventions, each with a runbook', async () => {
    const groups = (
      parse(renderPrometheusRules()) as { groups: Array<{ rules: Array<Record<string, unknown>> }> }
    ).groups;
    const rules = groups.flatMap((g) => g.rules) as Array<{
      alert: string;
      for: string;
      labels: { severity: string };
      annotations: { summary: string; description: string; runbook_url: string };
    }>;
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'McpscopeAuthFailures',
        'McpscopeAuthFailureBurst',
        'McpscopeToolErrorRatioHigh',
        'McpscopeToolLatencyHigh',
        'McpscopeRetryStorm',
        'McpscopeTaskFailureRatioHigh',
        'McpscopeCollectorRejectingRequests',
        'McpscopeCollectorDroppingSpans',
        'McpscopeCollectorDown',
      ]),
    );
    expect(rules.find((r) => r.alert === 'McpscopeAuthFailures')?.labels.severity).toBe('critical');
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Mcpscope([A-Z][a-z0-9]+)+$/);
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(rule.annotations.summary).toMatch(/^[A-Z][^{}]*\.$/);
      expect(rule.annotations.description).toMatch(/\{\{ \$(labels\.\w+|value)/);
      expect(rule.annotations.runbook_url).toBe(`${defaultAlertsConfig.runbookBaseUrl}/${rule.alert}.md`);
      const runbook = await readFile(new URL(`${rule.alert}.md`, runbooksDir), 'utf8');
      for (const heading of [
        '## What it means',
        '## Who is hurt',
        '## How to diagnose',
        '## How to mitigate',
      ]) {
        expect(runbook, `${rule.alert}.md`).toContain(heading);
      }
    }
  });
});
