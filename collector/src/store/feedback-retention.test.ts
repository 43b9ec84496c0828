import { afterEach, describe, expect, it } from 'vitest';
import { workloadBatches } from '../pipeline/test-support/workload.js';
import { startStoreMaintenance } from './maintenance.js';
import { openTempStore } from './test-support/temp-store.js';

let cleanup: () => Promise<void> = async () => {};
afterEach(() => cleanup());

const DAY_MS = 86_400_000;

const feedbackOf = async (store: Awaited<ReturnType<typeof openTempStore>>['store'], taskId: string) =>
  (await store.listTasks({ limit: 100 })).tasks.find((task) => task.taskId === taskId)?.feedback ?? null;

describe('feedback retention', () => {
  it('keeps one verdict per task however often it is sent', async () => {
    const opened = await openTempStore();
    cleanup = opened.cleanup;
    const { store } = opened;
    for (const batch of workloadBatches()) await store.commit(batch);
    // The workload's own verdicts (sent as span attributes) go first, so what is left is counted below.
    await store.deleteFeedbackRecordedBefore(Date.now() + DAY_MS);

    for (let index = 0; index < 200; index++) {
      expect(
        await store.recordFeedback('task-a', index % 2 === 0 ? 'correct' : 'incorrect', `note ${index}`),
      ).toBe(true);
    }
    expect(await feedbackOf(store, 'task-a')).toMatchObject({ verdict: 'incorrect', note: 'note 199' });

    expect(await store.deleteFeedbackRecordedBefore(Date.now() + DAY_MS), 'one row was kept').toBe(1);
    expect((await store.listTasks({ limit: 100 })).tasks.length, 'the tasks themselves stay').toBeGreaterThan(
      0,
    );
  });

  it('deletes verdicts past retention in store maintenance, and keeps those inside the window', async () => {
    const opened = await openTempStore();
    cleanup = opened.cleanup;
    const { store } = opened;
    for (const batch of workloadBatches()) await store.commit(batch);
    await store.recordFeedback('task-a', 'correct', null);
    startStoreMaintenance({ store, retentionDays: 7, now: () => Date.now() + 6 * DAY_MS })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await feedbackOf(store, 'task-a')).toMatchObject({ verdict: 'correct' });
    startStoreMaintenance({ store, retentionDays: 7, now: () => Date.now() + 8 * DAY_MS })();
    await expect.poll(() => feedbackOf(store, 'task-a')).toBeNull();
    expect((await store.listTasks({ limit: 100 })).tasks.length, 'the tasks themselves stay').toBeGreaterThan(
      0,
    );
  });
});
