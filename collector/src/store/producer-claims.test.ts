import { afterEach, describe, expect, it } from 'vitest';
import { ATTR_MCPSCOPE_TASK_ID } from '@mcpscope/instrumentation/conventions';
import { makeSpan } from '../pipeline/test-support/spans.js';
import { qualifiedTaskId, qualifiedTraceId } from './duckdb/producer-claims.js';
import { openTempStore } from './test-support/temp-store.js';

let cleanup: () => Promise<void> = async () => {};
afterEach(() => cleanup());

const claimed = (producer: string, span: string) => ({
  ...makeSpan({
    trace: 'shared',
    span,
    name: 'tools/call plan',
    startMs: 0,
    durationMs: 1,
    service: producer,
    attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'task-7' },
  }),
  producer,
});

describe('producer claims', () => {
  it('keeps the first producer of an id, within one commit too, and lets the id go with retention', async () => {
    const opened = await openTempStore();
    cleanup = opened.cleanup;
    const { store } = opened;
    // Two producers in one commit: the first span's producer owns both ids.
    const first = await store.commit([claimed('alpha', 'a1'), claimed('beta', 'b1')]);
    expect(first.foreignClaims).toEqual({ traces: 1, tasks: 1 });
    const [alpha, beta] = first.stored;
    expect(alpha).toMatchObject({ traceId: claimed('alpha', 'a1').traceId });
    expect(beta?.traceId).toBe(qualifiedTraceId(alpha!.traceId, 'beta'));
    expect(beta?.attributes[ATTR_MCPSCOPE_TASK_ID]).toBe(qualifiedTaskId('task-7', 'beta'));
    // Beta's next span joins beta's own copy, and is counted as foreign again.
    const second = await store.commit([claimed('beta', 'b2')]);
    expect(second.stored[0]?.traceId).toBe(beta?.traceId);
    // Spans without a producer (written by the collector itself) are never moved.
    const internal = makeSpan({ trace: 'shared', span: 'c1', startMs: 0, durationMs: 1, service: 'x' });
    expect((await store.commit([internal])).stored[0]?.traceId).toBe(internal.traceId);

    // Past retention the claims go with the spans: the id is free again.
    await store.deleteSpansEndedBefore(Date.now() + 86_400_000);
    const later = await store.commit([claimed('beta', 'b3')]);
    expect(later.foreignClaims).toBeUndefined();
    expect(later.stored[0]?.traceId).toBe(alpha!.traceId);
  });
});
