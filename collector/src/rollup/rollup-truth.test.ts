import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiRoutes, NEXT_CURSOR_HEADER } from '../api/index.js';
import { IngestQueue } from '../pipeline/index.js';
import { BASE_MS, spanId, traceId } from '../pipeline/test-support/spans.js';
import { WORKLOAD_TRUTH, workloadBatches } from '../pipeline/test-support/workload.js';
import type { DuckDbStore } from '../store/index.js';
import type { TaskDetail, TaskSummary, ToolSummary } from '../api/views.js';
import type { CommitResult } from '../store/index.js';
import { openTempStore } from '../store/test-support/temp-store.js';

let store: DuckDbStore;
let cleanup: () => Promise<void>;
let queue: IngestQueue;
let commits: CommitResult[];

beforeEach(async () => {
  ({ store, cleanup } = await openTempStore());
  commits = [];
  queue = new IngestQueue({ store, batchIntervalMs: 1, onCommitted: (result) => commits.push(result) });
});
afterEach(async () => {
  await queue.close();
  await cleanup();
});

const get = async <T>(path: string): Promise<T> => {
  const response = await apiRoutes({ store }).request(path);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};
const tasks = async (query = '') => (await get<{ tasks: TaskSummary[] }>(`/api/tasks${query}`)).tasks;

const expectedTask = (taskId: string) => {
  const truth = WORKLOAD_TRUTH.find((task) => task.taskId === taskId);
  if (truth === undefined) throw new Error(`unexpected task ${taskId}`);
  const { startMs, ...numbers } = truth;
  return { ...numbers, startTime: new Date(BASE_MS + startMs).toISOString() };
};
const truthIds = WORKLOAD_TRUTH.map((task) => task.taskId);

describe('rollups over a workload with known truth', () => {
  it('answers every task number exactly, after late spans and a duplicate delivery', async () => {
    const [batch1, batch2, batch3] = workloadBatches();
    await queue.accept(batch1!);
    // Before the late retry arrives, task-a ends on a failed attempt.
    expect((await get<TaskDetail>('/api/tasks/task-a')).task.outcome).toBe('failed');
    expect((await tasks()).map((task) => task.taskId)).toContain(traceId('e1'));

    await queue.accept(batch2!);
    await queue.accept(batch3!);

    const listed = await tasks();
    expect(listed.map((task) => task.taskId)).toEqual(truthIds);
    for (const task of listed) {
      const { feedback, ...numbers } = task;
      expect(numbers).toEqual(expectedTask(task.taskId));
      expect(feedback === null ? null : feedback.verdict).toBe(task.taskId === 'task-d' ? 'correct' : null);
    }
    expect(listed.find((task) => task.taskId === 'task-d')?.feedback?.note).toBe('plan matched the change');

    // The duplicate delivery stored nothing.
    expect(commits.at(-1)?.stored).toHaveLength(0);
    expect(commits.at(-1)?.duplicates).toBe(batch3!.length);
  });

  it('lists each call once, the caller span winning, with retries pointing at the failed attempt', async () => {
    for (const batch of workloadBatches()) await queue.accept(batch);
    const detail = await get<TaskDetail>('/api/tasks/task-a');
    expect(detail.task.taskId).toBe('task-a');
    expect(detail.calls).toEqual([
      {
        spanId: spanId('c1'),
        startTime: new Date(BASE_MS + 10).toISOString(),
        offsetMs: 10,
        traceId: traceId('a1'),
        service: 'agent',
        method: 'tools/call',
        tool: 'plan_changes',
        outcome: 'success',
        errorType: null,
        durationMs: 100,
        arguments: { env: 'prod', token: '[REDACTED]' },
        retryOf: null,
      },
      {
        spanId: spanId('c2'),
        startTime: new Date(BASE_MS + 200).toISOString(),
        offsetMs: 200,
        traceId: traceId('a1'),
        service: 'agent',
        method: 'tools/call',
        tool: 'apply_changes',
        outcome: 'error',
        errorType: 'tool_error',
        durationMs: 50,
        arguments: null,
        retryOf: null,
      },
      {
        spanId: spanId('c3'),
        startTime: new Date(BASE_MS + 300).toISOString(),
        offsetMs: 300,
        traceId: traceId('a1'),
        service: 'agent',
        method: 'tools/call',
        tool: 'apply_changes',
        outcome: 'success',
        errorType: null,
        durationMs: 60,
        arguments: null,
        retryOf: spanId('c2'),
      },
      {
        spanId: spanId('c4'),
        startTime: new Date(BASE_MS + 2010).toISOString(),
        offsetMs: 2010,
        traceId: traceId('a2'),
        service: 'agent',
        method: 'tools/call',
        tool: 'plan_changes',
        outcome: 'success',
        errorType: null,
        durationMs: 40,
        arguments: null,
        retryOf: null,
      },
    ]);
    const taskB = await get<TaskDetail>(`/api/tasks/${traceId('b1')}`);
    expect(taskB.calls.map((call) => [call.tool, call.outcome, call.errorType, call.retryOf])).toEqual([
      ['delete_resource', 'error', '-32603', null],
      ['delete_resource', 'error', 'tool_error', spanId('b-c1')],
      ['list_things', 'success', null, null],
    ]);
  });

  it('filters by outcome, service, tool and time, and pages with a cursor or an offset', async () => {
    for (const batch of workloadBatches()) await queue.accept(batch);
    const ids = async (query: string) => (await tasks(query)).map((task) => task.taskId);
    expect(await ids('?outcome=failed')).toEqual(['task-c', traceId('b1')]);
    expect(await ids('?service=infra-server')).toEqual(['task-c', 'task-a']);
    expect(await ids('?tool=delete_resource')).toEqual([traceId('b1')]);
    const from = new Date(BASE_MS + 10_000).toISOString();
    expect(await ids(`?from=${from}&to=${BASE_MS + 30_000}`)).toEqual(['task-c', traceId('b1')]);
    expect(await ids('?limit=2&offset=2')).toEqual(['task-c', traceId('b1')]);

    const api = apiRoutes({ store });
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const response = await api.request(`/api/tasks?limit=2${cursor === '' ? '' : `&cursor=${cursor}`}`);
      const page = (await response.json()) as { tasks: TaskSummary[] };
      seen.push(...page.tasks.map((task) => task.taskId));
      cursor = response.headers.get(NEXT_CURSOR_HEADER);
    }
    expect(seen).toEqual(truthIds);
  });

  it('summarises tools across tasks and per minute', async () => {
    for (const batch of workloadBatches()) await queue.accept(batch);
    const { tools } = await get<{ tools: ToolSummary[] }>('/api/tools');
    expect(tools).toEqual(
      [
        {
          tool: 'apply_changes',
          services: ['agent'],
          calls: 2,
          errors: 1,
          errorsByType: { tool_error: 1 },
          retries: 1,
          p50Ms: 55,
          p95Ms: 59.5,
          p99Ms: 59.9,
        },
        {
          tool: 'delete_resource',
          services: ['agent-b'],
          calls: 2,
          errors: 2,
          errorsByType: { '-32603': 1, tool_error: 1 },
          retries: 1,
          p50Ms: 25,
          p95Ms: 29.5,
          p99Ms: 29.9,
        },
        {
          tool: 'list_things',
          services: ['agent', 'agent-b'],
          calls: 2,
          errors: 0,
          errorsByType: {},
          retries: 0,
          p50Ms: 12.5,
          p95Ms: 19.25,
          p99Ms: 19.85,
        },
        {
          tool: 'plan_changes',
          services: ['agent', 'infra-server'],
          calls: 4,
          errors: 1,
          errorsByType: { '-32602': 1 },
          retries: 0,
          p50Ms: 55,
          p95Ms: 95.5,
          p99Ms: 99.1,
        },
      ].map((tool) => ({
        ...tool,
        p95Ms: expect.closeTo(tool.p95Ms, 6),
        p99Ms: expect.closeTo(tool.p99Ms, 6),
      })),
    );
    const minutes = await get<{
      minutes: { minute: string; calls: number; errors: number; retries: number }[];
    }>('/api/tools/apply_changes/minutes');
    expect(minutes.minutes).toEqual([
      expect.objectContaining({
        minute: new Date(BASE_MS).toISOString(),
        calls: 2,
        errors: 1,
        retries: 1,
        p50Ms: 55,
      }),
    ]);
  });

  it('serves the same tool summaries from per-minute stats, percentiles within 1%, before and after compaction', async () => {
    for (const batch of workloadBatches()) await queue.accept(batch);
    const exact = await store.listTools({});
    // A store that always answers from the per-minute stats, and folds them at every checkpoint.
    const stats = await openTempStore({ exactToolStatsLimit: 0, toolStatsCompactRows: 0 });
    try {
      for (const batch of workloadBatches()) await stats.store.commit(batch);
      const withinOnePercent = (tool: ToolSummary) => ({
        ...tool,
        p50Ms: expect.closeTo(tool.p50Ms, -Math.log10(tool.p50Ms * 0.01 * 2)),
        p95Ms: expect.closeTo(tool.p95Ms, -Math.log10(tool.p95Ms * 0.01 * 2)),
        p99Ms: expect.closeTo(tool.p99Ms, -Math.log10(tool.p99Ms * 0.01 * 2)),
      });
      expect(await stats.store.listTools({})).toEqual(exact.map(withinOnePercent));
      await stats.store.checkpoint();
      expect(await stats.store.listTools({})).toEqual(exact.map(withinOnePercent));
      // Redelivering everything changes nothing, folded or not.
      for (const batch of workloadBatches()) await stats.store.commit(batch);
      expect(await stats.store.listTools({})).toEqual(exact.map(withinOnePercent));
    } finally {
      await stats.cleanup();
    }
  });

  it('counts redeliveries once while rollups run beside the ingest commits', async () => {
    for (const batch of workloadBatches()) await queue.accept(batch);
    const expected = { tasks: await store.listTasks({ limit: 100 }), tools: await store.listTools({}) };
    // Rolls up after every commit, so redeliveries land while the rollup holding their spans runs.
    const busy = await openTempStore({ rollupIntervalMs: 0, rollupBatchSpans: 1 });
    try {
      const batches = workloadBatches();
      await Promise.all(batches.flatMap((batch) => [busy.store.commit(batch), busy.store.commit(batch)]));
      for (const span of batches.flat()) {
        const rolling = busy.store.flushRollups();
        expect((await busy.store.commit([span])).stored).toHaveLength(0);
        await rolling;
      }
      expect(await busy.store.listTasks({ limit: 100 })).toEqual(expected.tasks);
      expect(await busy.store.listTools({})).toEqual(expected.tools);
    } finally {
      await busy.cleanup();
    }
  });

  it('records feedback through the API and shows the latest verdict on the task', async () => {
    for (const batch of workloadBatches()) await queue.accept(batch);
    const api = apiRoutes({ store });
    const post = (taskId: string, body: string) =>
      api.request(`/api/tasks/${taskId}/feedback`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
    expect(
      (await post('task-a', JSON.stringify({ verdict: 'incorrect', note: 'applied to the wrong stack' })))
        .status,
    ).toBe(201);
    expect((await get<TaskDetail>('/api/tasks/task-a')).task.feedback).toEqual({
      verdict: 'incorrect',
      note: 'applied to the wrong stack',
      recordedAt: expect.any(String),
    });
    const unknown = await post('no-such-task', JSON.stringify({ verdict: 'correct' }));
    expect(unknown.status).toBe(404);
    const bad = await post('task-a', JSON.stringify({ verdict: 'maybe-secret-value' }));
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'invalid_body', requestId: expect.any(String) });
    expect(text).not.toContain('maybe-secret-value');
    expect((await post('task-a', '{not json')).status).toBe(400);
  });
});
