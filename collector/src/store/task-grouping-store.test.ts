import { afterEach, describe, expect, it } from 'vitest';
import {
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_MCPSCOPE_CONNECTION_ID,
  ATTR_SESSION_ID,
} from '@mcpscope/instrumentation/conventions';
import type { SpanRecord } from '../model/span.js';
import { makeSpan, toolCallSpan } from '../pipeline/test-support/spans.js';
import { openTempStore } from './test-support/temp-store.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const open = async () => {
  const temp = await openTempStore();
  cleanups.push(temp.cleanup);
  return temp.store;
};

/** A tool call an agent made with no span around it, as the one import records it. */
const bareCall = (trace: string, startMs: number, connection: string, errorType?: string): SpanRecord =>
  toolCallSpan({
    trace,
    span: `${trace}-call`,
    kind: 'client',
    startMs,
    durationMs: 5,
    service: 'agent',
    tool: 'apply_plan',
    fingerprint: 'fp-prod',
    ...(errorType === undefined ? {} : { errorType }),
    attributes: { [ATTR_MCPSCOPE_CONNECTION_ID]: connection },
  });

describe('tasks grouped without a task id, through the store', () => {
  it('calls of one connection committed apart are one task, the retry across them seen', async () => {
    const store = await open();
    await store.commit([bareCall('t1', 0, 'conn-1', 'tool_error')]);
    await store.flushRollups();
    await store.commit([bareCall('t2', 100, 'conn-1')]);
    await store.flushRollups();
    await store.commit([bareCall('t3', 200, 'conn-2')]);
    await store.flushRollups();

    const { tasks } = await store.listTasks({ limit: 10 });
    expect(tasks.map((task) => [task.taskId, task.toolCalls, task.retries, task.outcome]).sort()).toEqual([
      ['connection:conn-1', 2, 1, 'recovered'],
      ['connection:conn-2', 1, 0, 'success'],
    ]);
  });

  it('a late span naming a conversation moves its trace out of the connection task, in either order', async () => {
    const llm = (trace: string) =>
      makeSpan({
        trace,
        span: `${trace}-llm`,
        parent: `${trace}-call`,
        kind: 'client',
        startMs: 301,
        durationMs: 2,
        service: 'agent',
        attributes: { [ATTR_SESSION_ID]: 'conv-1', [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 70 },
      });
    for (const order of ['call first', 'llm first'] as const) {
      const store = await open();
      const batches =
        order === 'call first'
          ? [[bareCall('t4', 300, 'conn-3')], [llm('t4')]]
          : [[llm('t4')], [bareCall('t4', 300, 'conn-3')]];
      for (const batch of batches) {
        await store.commit(batch);
        await store.flushRollups();
      }
      const { tasks } = await store.listTasks({ limit: 10 });
      expect(
        tasks.map((task) => [task.taskId, task.toolCalls, task.inputTokens]),
        order,
      ).toEqual([['conversation:conv-1', 1, 70]]);
    }
  });
});
