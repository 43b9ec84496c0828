import { describe, expect, it } from 'vitest';
import { SECRET_VALUES, TASKS, taskIdFor } from './scenario.mjs';
import { runScript, testEnv } from './test-support/processes.js';

interface ObservedTask {
  id: string;
  taskId: string;
  toolCalls: number;
  failedCalls: number;
  retries: number;
  outcome: string;
  inputTokens: number;
  outputTokens: number;
  authFailures: Array<{ reason: string; httpStatus: number }>;
  tokenRefreshes: number;
  mismatches: unknown[];
}

interface Summary {
  ok: boolean;
  runLabel: string | null;
  tasks: ObservedTask[];
}

const expectSummaryMatchesScenario = (summary: Summary, runLabel?: string) => {
  expect(summary.ok).toBe(true);
  expect(summary.tasks.map((task) => task.taskId)).toEqual(TASKS.map((task) => taskIdFor(task, runLabel)));
  for (const task of TASKS) {
    const observed = summary.tasks.find((candidate) => candidate.id === task.id)!;
    const { tokenRefreshes = 0, ...truth } = task.truth;
    expect({ ...observed, id: task.id }).toEqual({
      id: task.id,
      taskId: taskIdFor(task, runLabel),
      ...truth,
      tokenRefreshes,
      mismatches: [],
    });
  }
};

const expectNoSecrets = (...outputs: string[]) => {
  for (const output of outputs) for (const secret of SECRET_VALUES) expect(output).not.toContain(secret);
};

// A run takes about 8 s on an idle 2-core machine; the budget leaves room for a loaded one.
const RUN_TIMEOUT_MS = 90_000;

describe('demo agent', () => {
  it(
    'runs the script with telemetry disabled: exit 0 and one summary line matching the scenario',
    async () => {
      const { code, stdout, stderr } = await runScript(
        'demo-agent.mjs',
        [],
        testEnv({ OTEL_SDK_DISABLED: 'true' }),
        RUN_TIMEOUT_MS - 5_000,
      );
      expect(stderr).not.toMatch(/"level":"error"/);
      expect(code).toBe(0);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expectSummaryMatchesScenario(JSON.parse(lines[0]!) as Summary);
      expectNoSecrets(stdout, stderr);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'runs the script instrumented with the collector unreachable, under a run label',
    async () => {
      const { code, stdout, stderr } = await runScript(
        'demo-agent.mjs',
        ['--run-label', 'second'],
        testEnv({ OTEL_SERVICE_NAME: 'demo-agent' }),
        RUN_TIMEOUT_MS - 5_000,
      );
      expect(code).toBe(0);
      const summary = JSON.parse(stdout) as Summary;
      expect(summary.runLabel).toBe('second');
      expectSummaryMatchesScenario(summary, 'second');
      expectNoSecrets(stdout, stderr);
    },
    RUN_TIMEOUT_MS,
  );
});
