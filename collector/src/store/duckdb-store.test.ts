import { afterEach, describe, expect, it } from 'vitest';
import { BASE_MS, toolCallSpan } from '../pipeline/test-support/spans.js';
import { workloadBatches } from '../pipeline/test-support/workload.js';
import { openTempStore } from './test-support/temp-store.js';

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
