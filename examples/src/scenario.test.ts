import { describe, expect, it } from 'vitest';
import {
  SECRETS,
  SECRET_VALUES,
  SERVERS,
  SERVICE_NAMES,
  TASKS,
  scenarioTotals,
  taskIdFor,
  type Step,
  type TaskTruth,
} from './scenario.mjs';

interface Attempt {
  key: string;
  failed: boolean;
}

/** Truth recomputed from the steps alone, by the definitions in DESIGN.md. */
const truthFromSteps = (steps: readonly Step[]): TaskTruth => {
  const attempts: Attempt[] = [];
  const truth: TaskTruth = {
    toolCalls: 0,
    failedCalls: 0,
    retries: 0,
    outcome: 'success',
    inputTokens: 0,
    outputTokens: 0,
    authFailures: [],
  };
  let refreshes = 0;
  let rootFailed = false;
  for (const step of steps) {
    if ('llm' in step) {
      truth.inputTokens += step.llm.inputTokens;
      truth.outputTokens += step.llm.outputTokens;
    } else if ('call' in step) {
      attempts.push({
        key: `${step.call.tool} ${JSON.stringify(step.call.arguments)}`,
        failed: step.expect !== 'ok',
      });
    } else if ('retry' in step) {
      const key = `${step.retry.tool} ${JSON.stringify(step.retry.arguments)}`;
      for (let attempt = 1; attempt <= step.attempts; attempt += 1) {
        attempts.push({ key, failed: step.expect === 'exhausted' || attempt < step.attempts });
      }
    } else if ('connect' in step && step.expect === 'unauthorized') {
      truth.authFailures.push({ reason: 'invalid_token', httpStatus: 401 });
    } else if ('connect' in step && step.expect === 'forbidden') {
      truth.authFailures.push({ reason: 'insufficient_scope', httpStatus: 403 });
    } else if ('expireAccessToken' in step) {
      truth.authFailures.push({ reason: 'expired_token', httpStatus: 401 });
      refreshes += 1;
    }
    if ('endsTask' in step && step.endsTask) {
      rootFailed = true;
      break;
    }
  }
  const lastFailed = new Map<string, boolean>();
  for (const { key, failed } of attempts) {
    if (lastFailed.get(key)) truth.retries += 1;
    lastFailed.set(key, failed);
  }
  truth.toolCalls = attempts.length;
  truth.failedCalls = attempts.filter((attempt) => attempt.failed).length;
  const endsOnFailure = [...lastFailed.values()].some(Boolean);
  truth.outcome = rootFailed || endsOnFailure ? 'failed' : truth.failedCalls > 0 ? 'recovered' : 'success';
  if (refreshes > 0) truth.tokenRefreshes = refreshes;
  return truth;
};

describe('the demo scenario', () => {
  it.each(TASKS.map((task) => [task.id, task] as const))(
    'states the truth its steps imply: %s',
    (_id, task) => {
      expect(task.truth).toEqual(truthFromSteps(task.steps));
    },
  );

  it('covers every case the end-to-end test relies on', () => {
    const outcomes = TASKS.map((task) => task.truth.outcome);
    expect(new Set(outcomes)).toEqual(new Set(['success', 'recovered', 'failed']));
    const expectations = TASKS.flatMap((task) =>
      task.steps.map((step) => ('expect' in step ? step.expect : undefined)),
    );
    expect(expectations).toEqual(
      expect.arrayContaining([
        'tool_error',
        'protocol_error',
        'recovered',
        'exhausted',
        'unauthorized',
        'forbidden',
      ]),
    );
    const reasons = TASKS.flatMap((task) => task.truth.authFailures.map((failure) => failure.reason));
    expect(reasons.sort()).toEqual(['expired_token', 'insufficient_scope', 'invalid_token']);
    const servers = new Set(
      TASKS.flatMap((task) =>
        task.steps.flatMap((step) =>
          Object.values(step).map((value) => (value as { server?: string }).server),
        ),
      ),
    );
    for (const name of Object.keys(SERVERS)) expect(servers).toContain(name);
  });

  it('shapes every secret like the real thing, so detectors built for real ones must catch it', () => {
    expect(SECRETS.awsSecretAccessKey).toMatch(/^[A-Za-z0-9/+]{40}$/);
    expect(SECRETS.githubToken).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(SECRETS.jwt).toMatch(/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]{43}$/);
    expect(SECRETS.databaseUrl).toBe(
      `postgresql://deploy:${SECRETS.databasePassword}@db.inventory.internal:5432/inventory`,
    );
  });

  it('uses every listed secret in the script, and none in ids or descriptions', () => {
    const script = JSON.stringify(TASKS.map((task) => task.steps));
    for (const secret of SECRET_VALUES) expect(script).toContain(secret);
    const labels = JSON.stringify(TASKS.map((task) => [task.id, task.description]));
    for (const secret of SECRET_VALUES) expect(labels).not.toContain(secret);
  });

  it('gives tasks and processes distinct names, and keeps repeated runs apart', () => {
    expect(new Set(TASKS.map((task) => task.id)).size).toBe(TASKS.length);
    expect(new Set(Object.values(SERVICE_NAMES)).size).toBe(Object.keys(SERVICE_NAMES).length);
    const [first] = TASKS;
    expect(taskIdFor(first!)).toBe(first!.id);
    expect(taskIdFor(first!, 'run2')).not.toBe(taskIdFor(first!));
  });

  it('sums the truth of all tasks', () => {
    const totals = scenarioTotals();
    expect(totals.tasks).toBe(TASKS.length);
    expect(totals.toolCalls).toBe(TASKS.reduce((sum, task) => sum + task.truth.toolCalls, 0));
    expect(totals.inputTokens).toBe(TASKS.reduce((sum, task) => sum + task.truth.inputTokens, 0));
    expect(totals.outcomes.success + totals.outcomes.recovered + totals.outcomes.failed).toBe(TASKS.length);
    expect(totals.authFailures).toBe(3);
  });
});
