import { describe, expect, it } from 'vitest';
import type { SpanFacts } from './span-facts.js';
import { rollUpTask } from './task-rollup.js';
import { facts } from './test-support/facts.js';

const MS = 1_000_000n;
const call = (overrides: Partial<SpanFacts>): SpanFacts =>
  facts({ method: 'tools/call', tool: 'deploy', fingerprint: 'same-arguments', ...overrides });

describe('input_required rounds', () => {
  it('a server seen alone: the round that asked is no call, the completing round is one success', () => {
    const { task, calls } = rollUpTask('t', [
      call({ spanId: '1'.repeat(16), startNs: 0n, endNs: 5n * MS, callDetail: { asked: true } }),
      call({ spanId: '2'.repeat(16), startNs: 900n * MS, endNs: 910n * MS }),
    ]);
    expect(task).toMatchObject({ outcome: 'success', toolCalls: 1, failedCalls: 0, retries: 0 });
    expect(calls.map((one) => one.spanId)).toEqual(['2'.repeat(16)]);
  });

  it('a caller span over every round is one call that carries its rounds; the server rounds are its halves', () => {
    const caller = call({
      spanId: 'c'.repeat(16),
      kind: 'client',
      serviceName: 'agent',
      startNs: 0n,
      endNs: 950n * MS,
      callDetail: { inputRounds: 2, inputWaitMs: 880 },
    });
    const rounds = [0n, 400n, 900n].map((start, index) =>
      call({
        spanId: String(index + 1).repeat(16),
        parentSpanId: caller.spanId,
        startNs: start * MS,
        endNs: (start + 10n) * MS,
        callDetail: index < 2 ? { asked: true } : null,
      }),
    );
    const { task, calls } = rollUpTask('t', [caller, ...rounds]);
    expect(task).toMatchObject({ outcome: 'success', toolCalls: 1, failedCalls: 0, retries: 0 });
    expect(calls[0]).toMatchObject({
      spanId: caller.spanId,
      durationMs: 950,
      detail: { inputRounds: 2, inputWaitMs: 880 },
    });
  });

  it('a client re-sending by hand: the answer that asked is no failure and the re-send no retry', () => {
    const { task } = rollUpTask('t', [
      call({
        spanId: '1'.repeat(16),
        kind: 'client',
        startNs: 0n,
        endNs: 5n * MS,
        callDetail: { asked: true },
      }),
      call({
        spanId: '2'.repeat(16),
        kind: 'client',
        startNs: 50n * MS,
        endNs: 60n * MS,
        statusError: true,
        errorType: 'tool_error',
      }),
    ]);
    expect(task).toMatchObject({ outcome: 'failed', toolCalls: 1, failedCalls: 1, retries: 0 });
  });
});

describe('a call that became a task', () => {
  const created = call({
    spanId: 'c'.repeat(16),
    kind: 'client',
    startNs: 0n,
    endNs: 10n * MS,
    callDetail: { mcpTaskId: 'task-1', mcpTaskStatus: 'working' },
  });
  const poll = (index: number, endMs: bigint, status: string, method = 'tasks/get') =>
    facts({
      spanId: String(index).repeat(16),
      kind: 'client',
      method,
      startNs: (endMs - 2n) * MS,
      endNs: endMs * MS,
      callDetail: { mcpTaskId: 'task-1', mcpTaskStatus: status },
    });

  it('is one call from creation to its last status; polling is never a call', () => {
    const { task, calls } = rollUpTask('t', [created, poll(1, 100n, 'working'), poll(2, 300n, 'completed')]);
    expect(task).toMatchObject({ outcome: 'success', toolCalls: 1, failedCalls: 0 });
    expect(calls[0]).toMatchObject({
      durationMs: 300,
      outcome: 'success',
      detail: { mcpTaskId: 'task-1', mcpTaskStatus: 'completed' },
    });
  });

  it('fails with the task, records its time waiting for input, and ignores polls after the end', () => {
    const { task, calls } = rollUpTask('t', [
      created,
      poll(1, 100n, 'input_required'),
      poll(2, 250n, 'working'),
      poll(3, 400n, 'failed'),
      poll(4, 500n, 'working'),
    ]);
    expect(task).toMatchObject({ outcome: 'failed', toolCalls: 1, failedCalls: 1 });
    expect(calls[0]).toMatchObject({
      outcome: 'error',
      errorType: 'task_failed',
      detail: { mcpTaskStatus: 'failed', inputWaitMs: 150 },
    });
  });

  it('fails as a tool error when the task completed with an error result', () => {
    const result = {
      ...poll(2, 320n, 'completed', 'tasks/result'),
      callDetail: { mcpTaskId: 'task-1', toolError: true as const },
    };
    const { calls } = rollUpTask('t', [created, poll(1, 300n, 'completed'), result]);
    expect(calls[0]).toMatchObject({ outcome: 'error', errorType: 'tool_error' });
  });
});
