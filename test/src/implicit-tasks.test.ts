import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectorConfig,
  startCollector,
  type RunningCollector,
  type TaskDetail,
  type TaskSummary,
} from '@mcpscope/collector';
import { eventually, startProcess } from './support/processes.js';

/**
 * Tasks when the application names none: real agents (child processes with the one import, real MCP
 * SDK stdio and in-memory transports) against a real collector on a DuckDB file. What each program
 * did, printed on its stdout, is the truth the tasks are compared with.
 */

const fixture = (name: string) =>
  fileURLToPath(new URL(`./fixtures/implicit-tasks/${name}`, import.meta.url));

let collector: RunningCollector;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpscope-implicit-tasks-'));
  collector = await startCollector(
    collectorConfig({ httpPort: 0, grpcPort: 0, batchIntervalMs: 2, dbPath: join(dir, 'mcpscope.duckdb') }),
  );
});
afterAll(async () => {
  await collector?.close();
  await rm(dir, { recursive: true, force: true });
});

interface CallDone {
  name: string;
  args: unknown;
  failed: boolean;
}

/** Runs a fixture to its end and returns what it printed it did. */
const runAgent = async <T>(script: string, args: string[], serviceName: string): Promise<T> => {
  const agent = startProcess(process.execPath, [fixture(script), ...args], {
    env: {
      ...process.env,
      OTEL_SERVICE_NAME: serviceName,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.grpcPort}`,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  });
  const code = await agent.exited;
  expect(code, agent.stderr()).toBe(0);
  const lines = agent.stdout().trim().split('\n');
  return { ...(JSON.parse(lines[lines.length - 1] ?? '{}') as T), stderr: agent.stderr() };
};

const tasksOf = async (service: string): Promise<TaskSummary[]> => {
  const response = await fetch(`${collector.url}/api/tasks?service=${service}&limit=100`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { tasks: TaskSummary[] }).tasks;
};

const taskDetail = async (taskId: string): Promise<TaskDetail> => {
  const response = await fetch(`${collector.url}/api/tasks/${encodeURIComponent(taskId)}`);
  expect(response.status).toBe(200);
  return (await response.json()) as TaskDetail;
};

/** Retries are attempts that repeat an earlier failed attempt of the same tool and arguments. */
const retriesIn = (calls: readonly CallDone[]): number => {
  let retries = 0;
  const lastFailed = new Map<string, boolean>();
  for (const call of calls) {
    const key = `${call.name} ${JSON.stringify(call.args)}`;
    if (lastFailed.get(key) === true) retries += 1;
    lastFailed.set(key, call.failed);
  }
  return retries;
};

/** Waits until the servers' spans too have arrived: the calls of the task equal `expected` in number. */
const settledTasks = (service: string, isSettled: (tasks: TaskSummary[]) => boolean) =>
  eventually(
    async () => {
      const tasks = await tasksOf(service);
      return isSettled(tasks) ? tasks : undefined;
    },
    { what: `the tasks of ${service}`, timeoutMs: 30_000 },
  );

// Child processes, stdio servers and exports on a shared 2-core machine take their time.
const SLOW = 90_000;

describe('tasks of an agent with only the one import', () => {
  it(
    'one connection in one process run is one task, and a retry across two calls is seen',
    async () => {
      const service = 'implicit-plain';
      const did = await runAgent<{ calls: CallDone[] }>('agent.mjs', ['plain'], service);
      expect(did.calls.map((call) => call.failed)).toEqual([false, true, false, false]);

      const tasks = await settledTasks(service, (found) => found.some((task) => task.toolCalls >= 4));
      expect(tasks).toHaveLength(1);
      const [task] = tasks;
      expect(task).toMatchObject({
        toolCalls: did.calls.length,
        failedCalls: did.calls.filter((call) => call.failed).length,
        retries: retriesIn(did.calls),
        outcome: 'recovered',
      });
      expect(task?.taskId).toMatch(/^connection:/);
      expect(task?.services).toEqual([service, `${service}-server`]);
      const detail = await taskDetail(task?.taskId ?? '');
      expect(detail.calls.map((call) => call.errorType)).toEqual([null, 'tool_error', null, null]);
      const failedCall = detail.calls.find((call) => call.outcome === 'error');
      expect(detail.calls.find((call) => call.retryOf !== null)?.retryOf).toBe(failedCall?.spanId);

      // The next process run is another connection: another task.
      await runAgent('agent.mjs', ['plain'], service);
      const both = await settledTasks(service, (found) => found.filter((t) => t.toolCalls >= 4).length === 2);
      expect(new Set(both.map((t) => t.taskId)).size).toBe(2);
    },
    SLOW,
  );

  it(
    'withTask and a root span of its own still win over the connection',
    async () => {
      const service = 'implicit-precedence';
      const did = await runAgent<{ calls: CallDone[]; explicitTask: string; rootTraceId: string }>(
        'agent.mjs',
        ['precedence'],
        service,
      );
      const tasks = await settledTasks(service, (found) => found.length === 3);
      const byId = new Map(tasks.map((task) => [task.taskId, task]));
      expect(byId.get(did.explicitTask)).toMatchObject({ toolCalls: 2, failedCalls: 1, retries: 1 });
      expect(byId.get(did.rootTraceId)).toMatchObject({ toolCalls: 2, failedCalls: 1, retries: 1 });
      const bare = tasks.find((task) => task.taskId.startsWith('connection:'));
      expect(bare).toMatchObject({ toolCalls: 1, failedCalls: 0, retries: 0 });
      expect(did.calls).toHaveLength(5);
    },
    SLOW,
  );
});

describe('tasks of a framework whose spans are never active', () => {
  it(
    'are its conversations: each thread one task with its calls, retry and tokens, over one connection',
    async () => {
      const service = 'implicit-langchain-style';
      interface ThreadDone {
        threadId: string;
        calls: CallDone[];
        inputTokens: number;
        outputTokens: number;
      }
      const did = await runAgent<{ threads: ThreadDone[] }>('langchain-style-agent.mjs', [], service);
      expect(did.threads).toHaveLength(2);

      const totalCalls = did.threads.reduce((sum, thread) => sum + thread.calls.length, 0);
      const tasks = await settledTasks(
        service,
        (found) => found.reduce((sum, task) => sum + task.toolCalls, 0) >= totalCalls && found.length >= 2,
      );
      expect(tasks).toHaveLength(did.threads.length);
      for (const thread of did.threads) {
        const task = tasks.find((candidate) => candidate.taskId === `conversation:${thread.threadId}`);
        expect(task, thread.threadId).toMatchObject({
          toolCalls: thread.calls.length,
          failedCalls: thread.calls.filter((call) => call.failed).length,
          retries: retriesIn(thread.calls),
          inputTokens: thread.inputTokens,
          outputTokens: thread.outputTokens,
        });
      }
      expect(retriesIn(did.threads.flatMap((thread) => thread.calls))).toBe(1);
    },
    SLOW,
  );
});

describe('an application with its own NodeSDK', () => {
  it.each(['sdk-first', 'import-first'])(
    '%s: spans the one import does not create carry the task id, so tokens land in their task',
    async (order) => {
      const service = `implicit-sdk-node-${order}`;
      const did = await runAgent<{
        taskId: string;
        inputTokens: number;
        outputTokens: number;
        stderr: string;
      }>('sdk-node-agent.mjs', [order], service);
      const tasks = await settledTasks(service, (found) =>
        found.some((task) => task.taskId === did.taskId && task.inputTokens > 0 && task.toolCalls > 0),
      );
      expect(tasks.find((task) => task.taskId === did.taskId)).toMatchObject({
        toolCalls: 1,
        inputTokens: did.inputTokens,
        outputTokens: did.outputTokens,
      });
      // No task of its own for the model call.
      expect(tasks.filter((task) => task.inputTokens > 0)).toHaveLength(1);
      expect(did.stderr).not.toContain('TaskIdSpanProcessor');
    },
    SLOW,
  );
});
