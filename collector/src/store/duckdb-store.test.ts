import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDbStore, ROLLUP_ATTEMPTS_BEFORE_SET_ASIDE } from './duckdb-store.js';
import { BASE_MS, toolCallSpan, traceId as traceIdOf } from '../pipeline/test-support/spans.js';
import { workloadBatches } from '../pipeline/test-support/workload.js';
import { openTempStore } from './test-support/temp-store.js';

const run = promisify(execFile);
let cleanup: () => Promise<void> = async () => {};
afterEach(() => cleanup());

describe('DuckDB store retention', () => {
  it('deletes raw spans past retention and keeps the rollups', async () => {
    const opened = await openTempStore();
    cleanup = opened.cleanup;
    const { store } = opened;
    for (const batch of workloadBatches()) await store.commit(batch);
    const before = await store.listTasks({ limit: 100 });
    const taskA = await store.getTask('task-a');

    // Everything of task-a and task b ended before 15 s after the base time.
    const deleted = await store.deleteSpansEndedBefore(BASE_MS + 15_000);
    expect(deleted).toBe(16);
    expect(await store.listTasks({ limit: 100 })).toEqual(before);
    expect(await store.getTask('task-a')).toEqual(taskA);
    expect(await store.deleteSpansEndedBefore(BASE_MS + 15_000)).toBe(0);

    // A very late span of task-a is stored, but the task is not rebuilt from the spans that are left.
    const late = await store.commit([
      toolCallSpan({
        trace: 'a1',
        span: 'very-late',
        parent: 'a1-root',
        kind: 'client',
        startMs: 900,
        durationMs: 5,
        service: 'agent',
        tool: 'plan_changes',
      }),
    ]);
    expect(late.stored).toHaveLength(1);
    expect(await store.getTask('task-a')).toEqual(taskA);
    expect(await store.listTasks({ limit: 100 })).toEqual(before);
  });
});

describe('DuckDB store crash between acknowledgement and rollup', () => {
  it('rolls up at the next start what was acknowledged before a kill -9', async () => {
    const opened = await openTempStore();
    cleanup = opened.cleanup;
    const { store, path } = opened;
    for (const batch of workloadBatches()) await store.commit(batch);
    const truth = await store.listTasks({ limit: 100 });
    const tools = await store.listTools({});
    await store.close();
    const fresh = `${path}.killed.duckdb`;
    const script = `
      import { DuckDbStore } from './src/store/index.ts';
      import { workloadBatches } from './src/pipeline/test-support/workload.ts';
      const store = await DuckDbStore.open({ path: process.argv[1], rollupIntervalMs: 3_600_000 });
      const [first, ...rest] = workloadBatches();
      // The first batch rolled up, the later ones (late spans of its traces among them) only acknowledged.
      await store.commit(first);
      await store.flushRollups();
      for (const batch of rest) await store.commit(batch);
      process.kill(process.pid, 'SIGKILL');`;
    const child = await run(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, fresh],
      {
        cwd: new URL('../../', import.meta.url).pathname,
      },
    ).catch((error: { signal?: string }) => error);
    expect((child as { signal?: string }).signal).toBe('SIGKILL');

    const reopened = await DuckDbStore.open({ path: fresh });
    try {
      expect(await reopened.listTasks({ limit: 100 })).toEqual(truth);
      expect(await reopened.listTools({})).toEqual(tools);
      // A redelivery after the restart is still recognised.
      const redelivery = await reopened.commit(workloadBatches()[0]!);
      expect(redelivery.stored).toHaveLength(0);
      expect(await reopened.listTasks({ limit: 100 })).toEqual(truth);
    } finally {
      await reopened.close();
    }
  });
});

describe('DuckDB store crash after a trace was rolled up as plumbing only', () => {
  it('makes the trace a task at the next start when a tool call came later, outside its first bounds', async () => {
    const opened = await openTempStore();
    cleanup = opened.cleanup;
    await opened.store.close();
    const script = `
      import { DuckDbStore } from './src/store/index.ts';
      import { makeSpan, toolCallSpan } from './src/pipeline/test-support/spans.ts';
      const store = await DuckDbStore.open({ path: process.argv[1], rollupIntervalMs: 3_600_000 });
      // A tools/list alone is plumbing: no task yet.
      await store.commit([makeSpan({ trace: 'p', span: 'list', kind: 'client', startMs: 0, durationMs: 2,
        service: 'agent', attributes: { 'mcp.method.name': 'tools/list' } })]);
      await store.flushRollups();
      await store.commit([toolCallSpan({ trace: 'p', span: 'call', kind: 'client', startMs: 60_000,
        durationMs: 5, service: 'agent', tool: 'plan_changes' })]);
      process.kill(process.pid, 'SIGKILL');`;
    const child = await run(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, opened.path],
      {
        cwd: new URL('../../', import.meta.url).pathname,
      },
    ).catch((error: { signal?: string }) => error);
    expect((child as { signal?: string }).signal).toBe('SIGKILL');

    const reopened = await DuckDbStore.open({ path: opened.path });
    try {
      const { tasks } = await reopened.listTasks({ limit: 10 });
      expect(tasks.map((task) => [task.toolCalls, task.services])).toEqual([[1, ['agent']]]);
    } finally {
      await reopened.close();
    }
  });
});

describe('DuckDB store with a very large task', () => {
  it('rolls up a task of 150,000 tool calls, and the tasks after it too', async () => {
    // The overflow is the subject here, not the size limit.
    const opened = await openTempStore({ maxTaskSpans: 1_000_000 });
    cleanup = opened.cleanup;
    const { store } = opened;
    // One long-lived task (a fixed task id reused for every run would grow like this), in three commits.
    const calls = 150_000;
    const perCommit = 50_000;
    for (let first = 0; first < calls; first += perCommit) {
      const batch = Array.from({ length: perCommit }, (_, offset) =>
        toolCallSpan({
          trace: 'huge',
          span: `call-${first + offset}`,
          kind: 'client',
          startMs: (first + offset) / 10,
          durationMs: 1,
          service: 'agent',
          tool: 'refresh_state',
          fingerprint: `fingerprint-${(first + offset) % 7}`,
        }),
      );
      expect((await store.commit(batch)).stored).toHaveLength(perCommit);
    }
    await store.commit([
      toolCallSpan({
        trace: 'small',
        span: 'only',
        kind: 'client',
        startMs: 20_000,
        durationMs: 2,
        service: 'agent',
        tool: 'plan',
      }),
    ]);
    await store.flushRollups();
    const page = await store.listTasks({ limit: 10 });
    expect(page.tasks.map((task) => task.toolCalls).sort((a, b) => a - b)).toEqual([1, calls]);
    expect(store.pendingRollupSpans).toBe(0);
  }, 120_000);
});

describe('DuckDB store with a trace whose rollup always fails', () => {
  it('rolls up every other trace, sets the failing one aside, and keeps it for the next start', async () => {
    const opened = await openTempStore();
    cleanup = opened.cleanup;
    await opened.store.close();
    // The fault is DuckDB's own: a CHECK constraint refuses the calls of one tool, so every rollup
    // of that tool's trace fails, as a bug tied to one trace's data would.
    const raw = await DuckDBInstance.create(opened.path);
    const connection = await raw.connect();
    await connection.run('DROP TABLE calls');
    await connection.run(`CREATE TABLE calls (
      task_id VARCHAR NOT NULL, trace_id VARCHAR NOT NULL, span_id VARCHAR NOT NULL, service VARCHAR NOT NULL,
      method VARCHAR NOT NULL, tool VARCHAR NOT NULL CHECK (tool <> 'poison-pill'), outcome VARCHAR NOT NULL,
      error_type VARCHAR, duration_ms DOUBLE NOT NULL, arguments VARCHAR, fingerprint VARCHAR, retry_of VARCHAR,
      start_ns BIGINT NOT NULL, detail VARCHAR)`);
    connection.closeSync();
    raw.closeSync();

    const setAside: string[] = [];
    const failures: unknown[] = [];
    const store = await DuckDbStore.open({
      path: opened.path,
      rollupIntervalMs: 60_000,
      onTraceSetAside: (traceId) => setAside.push(traceId),
      onRollupFailed: (error) => failures.push(error),
    });
    cleanup = async () => {
      await store.close();
      await opened.cleanup().catch(() => undefined);
    };
    const call = (trace: string, tool: string, startMs: number) =>
      toolCallSpan({
        trace,
        span: `${trace}-call`,
        kind: 'client',
        startMs,
        durationMs: 2,
        service: 'agent',
        tool,
      });

    await store.commit([call('poison', 'poison-pill', 0), call('good-0', 'plan', 1)]);
    for (let round = 1; round <= ROLLUP_ATTEMPTS_BEFORE_SET_ASIDE; round++) {
      await store.commit([call(`good-${round}`, 'plan', round * 10)]);
      await store.flushRollups();
      // Every good trace committed so far is a task already: the failing one holds nobody up.
      const page = await store.listTasks({ limit: 100 });
      expect(page.tasks.map((task) => task.taskId).sort()).toEqual(
        Array.from({ length: round + 1 }, (_, index) => traceIdOf(`good-${index}`)).sort(),
      );
    }
    expect(setAside).toEqual([traceIdOf('poison')]);
    expect(String(failures[0])).toMatch(/constraint/i);
    // Set aside: later rollups no longer try it, and nothing is left waiting.
    await store.commit([call('poison', 'poison-pill', 100), call('good-late', 'plan', 101)]);
    await store.flushRollups();
    expect(store.pendingRollupSpans).toBe(0);
    expect((await store.getTask(traceIdOf('good-late')))?.task.toolCalls).toBe(1);
    await store.close();

    // Its marks stay in the file, so the next start (a fixed collector, say) tries it again.
    const after = await DuckDBInstance.create(opened.path);
    const check = await after.connect();
    const marks = await check.runAndReadAll('SELECT count(*) AS n FROM rollup_pending WHERE trace_id = $id', {
      id: traceIdOf('poison'),
    });
    expect(Number(marks.getRowObjectsJS()[0]?.n)).toBeGreaterThan(0);
    check.closeSync();
    after.closeSync();
  });
});

describe('DuckDB store with a task past maxTaskSpans', () => {
  it('keeps the rollup the task had, says so once, and rolls up the other tasks', async () => {
    const tooLarge: Array<[string, number]> = [];
    const opened = await openTempStore({
      maxTaskSpans: 1_000,
      onTaskTooLarge: (taskId, spans) => tooLarge.push([taskId, spans]),
    });
    cleanup = opened.cleanup;
    const { store } = opened;
    const calls = (trace: string, from: number, count: number) =>
      Array.from({ length: count }, (_, offset) =>
        toolCallSpan({
          trace,
          span: `${trace}-${from + offset}`,
          kind: 'client',
          startMs: from + offset,
          durationMs: 1,
          service: 'agent',
          tool: 'refresh_state',
        }),
      );
    await store.commit(calls('long-session', 0, 900));
    expect((await store.getTask(traceIdOf('long-session')))?.task.toolCalls).toBe(900);

    await store.commit(calls('long-session', 900, 200));
    await store.flushRollups();
    await store.commit(calls('other', 5_000, 3));
    await store.commit(calls('long-session', 1_100, 50));
    const page = await store.listTasks({ limit: 10 });
    const byId = new Map(page.tasks.map((task) => [task.taskId, task.toolCalls]));
    expect(byId.get(traceIdOf('long-session'))).toBe(900);
    expect(byId.get(traceIdOf('other'))).toBe(3);
    expect(tooLarge).toEqual([[traceIdOf('long-session'), 1_100]]);
    expect(store.pendingRollupSpans).toBe(0);
  });
});

describe('DuckDB store reads during a long rollup', () => {
  it('answer from the rollups committed so far once readWaitMs has passed', async () => {
    const opened = await openTempStore({ readWaitMs: 5 });
    cleanup = opened.cleanup;
    const { store } = opened;
    const calls = (trace: string, count: number) =>
      Array.from({ length: count }, (_, offset) =>
        toolCallSpan({
          trace,
          span: `${trace}-${offset}`,
          kind: 'client',
          startMs: offset,
          durationMs: 1,
          service: 'agent',
          tool: 'refresh_state',
        }),
      );
    await store.commit(calls('earlier', 2));
    await store.flushRollups();
    // Past the rollup batch size: its rollup starts at once and takes far longer than 5 ms.
    await store.commit(calls('large', 30_000));
    const during = await store.listTasks({ limit: 10 });
    expect(store.pendingRollupSpans).toBeGreaterThan(0);
    expect(during.tasks.map((task) => task.taskId)).toEqual([traceIdOf('earlier')]);
    await store.flushRollups();
    const after = await store.listTasks({ limit: 10 });
    expect(after.tasks.map((task) => task.toolCalls).sort((a, b) => a - b)).toEqual([2, 30_000]);
  });
});
