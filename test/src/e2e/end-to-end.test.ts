/**
 * The whole pack as a user runs it, with real parts only: the example servers (stdio and Streamable
 * HTTP, ESM and CommonJS) enabled by the one import, the demo agent running the scripted tasks, the
 * collector CLI with a fresh DuckDB file (crashed with kill -9 mid-run and restarted), a second
 * collector as the forwarding target, real Prometheus scraping every second with the generated
 * rules, and real Alertmanager delivering to a webhook in this test.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertmanagerConfig,
  defaultAlertsConfig,
  listAlertExpressions,
  NON_PAGING_WEBHOOK_PLACEHOLDER,
  ON_CALL_WEBHOOK_PLACEHOLDER,
  renderPrometheusRules,
  type AlertsConfig,
} from '../../../alerts/src/index.js';
import { expandGrafanaVariables, listPanelQueries } from '../../../dashboards/src/index.js';
import {
  checkpointTruth,
  SECRET_VALUES,
  SERVICE_NAMES,
  TASKS,
  taskIdFor,
} from '../../../examples/src/scenario.mjs';
import type { TaskCheckpoints } from '@mcpscope/collector';
import { ensureDebianTool } from '../support/debian-tools.js';
import { eventually, startProcess, type RunningProcess } from '../support/processes.js';
import { startPrometheusStack, type PrometheusStack } from '../support/prometheus-stack.js';
import { DEMO_AGENT, startRestartableCollector, type ApiTask, type RestartableCollector } from './stack.js';

const HEALTHY_TASKS = ['network-plan-apply', 'rotate-credentials-incident'];

/**
 * The generated rules, tuned through the config object only: every alert fires after 1 s and looks
 * back 2 minutes, and any auth failure pages (the demo rejects each kind of token once; the
 * threshold itself is pinned by the promtool tests).
 */
const shortenedAlerts = (): AlertsConfig => {
  const shortened: Record<string, unknown> = { ...defaultAlertsConfig, evaluationInterval: '1s' };
  for (const [key, value] of Object.entries(defaultAlertsConfig)) {
    if (value && typeof value === 'object' && 'for' in value) {
      shortened[key] = { ...value, for: '1s', ...('window' in value ? { window: '2m' } : {}) };
    }
  }
  const tuned = shortened as unknown as AlertsConfig;
  return { ...tuned, authFailures: { ...tuned.authFailures, failures: 0 } };
};

/** The generated routing, with the test's webhooks and grouping waits of a second. */
const alertmanagerYaml = () => {
  const config = alertmanagerConfig() as { route: Record<string, unknown> };
  config.route = { ...config.route, group_wait: '1s', group_interval: '1s', repeat_interval: '1h' };
  return stringify(config)
    .replaceAll(ON_CALL_WEBHOOK_PLACEHOLDER, '{{WEBHOOK_URL}}')
    .replaceAll(NON_PAGING_WEBHOOK_PLACEHOLDER, '{{WARNING_WEBHOOK_URL}}');
};

let dir: string;
let collector: RestartableCollector;
let downstream: RestartableCollector;
let stack: PrometheusStack;
const agentRuns: RunningProcess[] = [];
let criticalAlertsAfterHealthyRun: unknown[] = [];

const runAgent = (runLabel: string, tasks?: string[]) => {
  const agent = startProcess(
    process.execPath,
    [DEMO_AGENT, '--run-label', runLabel, ...(tasks ? ['--tasks', tasks.join(',')] : [])],
    {
      env: {
        ...process.env,
        OTEL_SERVICE_NAME: SERVICE_NAMES.agent,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.grpcEndpoint,
        // Export often, so the crash below lands between acknowledged batches.
        OTEL_BSP_SCHEDULE_DELAY: '200',
        // One fingerprint key for the agent and its servers: an approval's arguments compare with the
        // server's call (docs/checkpoints.md).
        MCPSCOPE_FINGERPRINT_KEY: 'e2e-fingerprint-key-7d2a91c3',
      },
    },
  );
  agentRuns.push(agent);
  return agent;
};

const tasksOf = async (runLabel: string) => {
  const { tasks } = await collector.get<{ tasks: ApiTask[] }>('/api/tasks?limit=500');
  return tasks.filter((task) => task.taskId.endsWith(`.${runLabel}`));
};

const truthFor = (ids: readonly string[] | undefined, runLabel: string) =>
  TASKS.filter((task) => !ids || ids.includes(task.id)).map((task) => ({
    taskId: taskIdFor(task, runLabel),
    toolCalls: task.truth.toolCalls,
    failedCalls: task.truth.failedCalls,
    retries: task.truth.retries,
    outcome: task.truth.outcome,
    inputTokens: task.truth.inputTokens,
    outputTokens: task.truth.outputTokens,
    authFailures: task.truth.authFailures.length,
  }));

const reported = (tasks: ApiTask[]) =>
  tasks
    .map(({ taskId, toolCalls, failedCalls, retries, outcome, inputTokens, outputTokens, authFailures }) => ({
      taskId,
      toolCalls,
      failedCalls,
      retries,
      outcome,
      inputTokens,
      outputTokens,
      authFailures,
    }))
    .sort((a, b) => a.taskId.localeCompare(b.taskId));

/** Waits until the API reports exactly the truth (late spans keep arriving for a while). */
const waitForTruth = async (ids: readonly string[] | undefined, runLabel: string) => {
  const truth = truthFor(ids, runLabel).sort((a, b) => a.taskId.localeCompare(b.taskId));
  let last: unknown;
  try {
    await eventually(
      async () => {
        last = reported(await tasksOf(runLabel));
        return JSON.stringify(last) === JSON.stringify(truth) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000, what: `the ${runLabel} tasks to equal the truth` },
    );
  } catch {
    // Fall through: the assertion below shows the difference.
  }
  return { truth, last };
};

beforeAll(async () => {
  ensureDebianTool('prometheus');
  const alertmanagerBinary = ensureDebianTool('alertmanager');
  dir = await mkdtemp(join(tmpdir(), 'mcpscope-e2e-'));
  downstream = await startRestartableCollector({ dbPath: join(dir, 'downstream.duckdb') });
  collector = await startRestartableCollector({
    dbPath: join(dir, 'mcpscope.duckdb'),
    extraArgs: ['--forward-endpoint', `${downstream.httpUrl}/v1/traces`],
  });
  stack = await startPrometheusStack({
    dir,
    collectorTarget: new URL(collector.httpUrl).host,
    rules: renderPrometheusRules(shortenedAlerts()),
    alertmanagerConfig: alertmanagerYaml(),
    alertmanagerBinary,
  });

  // A healthy run first: no critical alert may fire.
  const healthy = runAgent('healthy', HEALTHY_TASKS);
  expect(await healthy.exited, healthy.output().slice(-3000)).toBe(0);
  await waitForTruth(HEALTHY_TASKS, 'healthy');
  await new Promise((resolve) => setTimeout(resolve, 5000));
  criticalAlertsAfterHealthyRun = [
    ...(await stack.firingAlerts()).filter((alert) => alert.labels.severity === 'critical'),
    ...stack.delivered.filter((alert) => alert.receiver === 'on-call'),
  ];

  // The full script, with the collector killed -9 once some of it is acknowledged.
  const agent = runAgent('main');
  await eventually(async () => ((await tasksOf('main')).length > 0 ? true : undefined), {
    timeoutMs: 120_000,
    what: 'the first task of the main run to be stored',
  });
  await collector.crashAndRestart();
  expect(await agent.exited, agent.output().slice(-3000)).toBe(0);
}, 600_000);

afterAll(async () => {
  await Promise.allSettled(agentRuns.map((run) => run.stop()));
  await Promise.allSettled([stack?.stop(), collector?.stop(), downstream?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('end to end', () => {
  it('reports exactly the truth for every scripted task, across a kill -9 of the collector', async () => {
    const healthy = await waitForTruth(HEALTHY_TASKS, 'healthy');
    expect(healthy.last).toEqual(healthy.truth);
    const main = await waitForTruth(undefined, 'main');
    expect(main.last).toEqual(main.truth);
    expect(collector.logs()).toMatch(/collector listening[\s\S]*collector listening/);
  }, 200_000);

  it("reports each scripted task's human checkpoints, writes and orphaned writes as the scenario says", async () => {
    const byKey = <T>(items: T[]) => items.map((item) => JSON.stringify(item)).sort();
    const reportedOf = (checkpoints: TaskCheckpoints | undefined) => ({
      checkpoints: byKey(
        (checkpoints?.checkpoints ?? []).map(({ kind, tool, status }) => ({ kind, tool, outcome: status })),
      ),
      // A write that never ran is listed by the API, but only executed writes carry a verdict in the truth.
      writes: byKey(
        (checkpoints?.writeList ?? [])
          .filter((write) => write.verdict !== 'not_executed')
          .map(({ tool, verdict }) => ({ tool, verdict })),
      ),
      orphanedWrites: byKey(
        (checkpoints?.writeList ?? [])
          .filter((write) => write.orphaned)
          .map(({ tool, destructive }) => ({ tool, destructive })),
      ),
    });
    const truthOf = (task: (typeof TASKS)[number]) => {
      const truth = checkpointTruth(task);
      return {
        checkpoints: byKey(truth.checkpoints),
        writes: byKey(truth.writes),
        orphanedWrites: byKey(truth.orphanedWrites),
      };
    };
    const expected = Object.fromEntries(TASKS.map((task) => [task.id, truthOf(task)]));
    let last: Record<string, unknown> = {};
    await eventually(
      async () => {
        last = {};
        for (const task of TASKS) {
          const detail = await collector.get<{ checkpoints?: TaskCheckpoints }>(
            `/api/tasks/${encodeURIComponent(taskIdFor(task, 'main'))}`,
          );
          last[task.id] = reportedOf(detail.checkpoints);
        }
        return JSON.stringify(last) === JSON.stringify(expected) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000, what: 'the checkpoints of the main run to equal the scenario' },
    ).catch(() => undefined);
    expect(last).toEqual(expected);
  }, 200_000);

  it("pages on-call for the demo's unapproved and modified writes, and warns of its stale plan and orphaned apply", async () => {
    const fired = new Set<string>();
    const expected = {
      McpscopeUnapprovedWrite: 'on-call',
      McpscopeApprovedArgumentsModified: 'on-call',
      McpscopeStalePlanApplied: 'warnings',
      McpscopeOrphanedDestructiveWrite: 'warnings',
    };
    await eventually(
      () => {
        for (const alert of stack.delivered) {
          const receiver = expected[alert.labels.alertname as keyof typeof expected];
          if (receiver !== undefined && alert.receiver === receiver) fired.add(alert.labels.alertname!);
        }
        return fired.size === Object.keys(expected).length ? true : undefined;
      },
      { timeoutMs: 90_000, what: 'the checkpoint alerts of the demo at their receivers' },
    ).catch(() => undefined);
    expect([...fired].sort()).toEqual(Object.keys(expected).sort());
  }, 120_000);

  it('leaks no secret of the workload into storage, API, metrics, forwarded spans or logs', async () => {
    const { tasks } = await collector.get<{ tasks: ApiTask[] }>('/api/tasks?limit=500');
    const outputs: Record<string, string> = {
      'GET /api/tasks': JSON.stringify(tasks),
      'GET /api/tools': await collector.getText('/api/tools'),
      'GET /metrics': await collector.getText('/metrics'),
      'downstream GET /api/tasks': await downstream.getText('/api/tasks?limit=500'),
      'collector logs': collector.logs(),
      'downstream logs': downstream.logs(),
      'agent and server output': agentRuns.map((run) => run.output()).join('\n'),
    };
    for (const task of tasks) {
      outputs[`GET /api/tasks/${task.taskId}`] = await collector.getText(
        `/api/tasks/${encodeURIComponent(task.taskId)}`,
      );
    }
    // The forwarded copy arrived: the downstream collector stored the main run's tasks.
    expect(outputs['downstream GET /api/tasks']).toContain('network-plan-apply.main');
    // The database, its WAL and what DuckDB spilled to its temporary directory (`*.duckdb.tmp/`).
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      const file = join(entry.parentPath, entry.name);
      if (entry.isFile() && file.slice(dir.length).includes('.duckdb'))
        outputs[`file ${file.slice(dir.length + 1)}`] = (await readFile(file)).toString('latin1');
    }
    const leaks = Object.entries(outputs).flatMap(([where, text]) =>
      SECRET_VALUES.filter((secret) => text.includes(secret)).map(
        (secret) => `${where}: ${secret.slice(0, 6)}…`,
      ),
    );
    expect(leaks).toEqual([]);
    // The arguments were recorded, redacted, not dropped.
    const detail = outputs['GET /api/tasks/rotate-credentials-incident.main'] ?? '';
    expect(detail).toContain('REDACTED');
    expect(detail).toContain('Rotate leaked CI credentials');
  }, 60_000);

  it('every panel query of every dashboard returns data from Prometheus', async () => {
    await eventually(
      async () => ((await stack.query('mcpscope_tasks_total')).length > 0 ? true : undefined),
      {
        what: 'settled tasks in Prometheus',
      },
    );
    const emptyPanels = async () => {
      const empty: string[] = [];
      for (const query of listPanelQueries()) {
        const expr = expandGrafanaVariables(query.expr, {
          rateInterval: '2m',
          range: '10m',
          // Services as Grafana's "All"; the tool that failed and was retried in the script.
          variables: { service: '.*', tool: 'flaky_refresh' },
        });
        const result = await stack.query(expr);
        if (result.length === 0)
          empty.push(`${query.dashboardTitle} / ${query.panelTitle} (${query.refId}): ${expr}`);
      }
      return empty;
    };
    // A counter first incremented by the last spans of the run needs two scrapes before a rate()
    // over it has a value, as on any Grafana dashboard: ask again for a few scrape intervals.
    let empty = await emptyPanels();
    for (const deadline = Date.now() + 20_000; empty.length > 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      empty = await emptyPanels();
    }
    expect(empty).toEqual([]);
  }, 120_000);

  it('every alert expression evaluates without error', async () => {
    for (const alert of listAlertExpressions(shortenedAlerts())) {
      await expect(stack.query(alert.expr), alert.alert).resolves.toBeDefined();
    }
  });

  it('pages on-call through Alertmanager for the auth failures, and a healthy run paged no one', async () => {
    expect(criticalAlertsAfterHealthyRun).toEqual([]);
    const paged = await eventually(
      () =>
        stack.delivered.find(
          (alert) => alert.receiver === 'on-call' && alert.labels.alertname === 'McpscopeAuthFailures',
        ),
      { timeoutMs: 60_000, what: 'the auth-failure page at the on-call webhook' },
    );
    expect(paged.labels.severity).toBe('critical');
    expect(
      stack.delivered.filter((alert) => alert.receiver === 'on-call' && alert.labels.severity !== 'critical'),
    ).toEqual([]);
  }, 90_000);
});
