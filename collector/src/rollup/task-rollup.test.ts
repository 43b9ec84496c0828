import { describe, expect, it } from 'vitest';
import { rollUpTask } from './task-rollup.js';
import { facts } from './test-support/facts.js';

describe('task outcome', () => {
  // An agent that opens no span of its own: each tool call is a root of the trace.
  const attempt = (spanId: string, startNs: bigint, failed: boolean) =>
    facts({
      spanId,
      kind: 'client',
      serviceName: 'agent',
      method: 'tools/call',
      tool: 'deploy',
      fingerprint: 'same-arguments',
      startNs,
      endNs: startNs + 5n,
      statusError: failed,
      errorType: failed ? 'tool_error' : null,
    });

  it('is recovered when a parentless call failed and its retry succeeded', () => {
    const { task, calls } = rollUpTask('t', [
      attempt('1'.repeat(16), 10n, true),
      attempt('2'.repeat(16), 20n, false),
    ]);
    expect(task).toMatchObject({ outcome: 'recovered', toolCalls: 2, failedCalls: 1, retries: 1 });
    expect(calls[1]?.retryOf).toBe('1'.repeat(16));
  });

  it('is failed when the task’s own root span failed, whatever its calls did', () => {
    const root = facts({
      spanId: '9'.repeat(16),
      kind: 'internal',
      statusError: true,
      startNs: 0n,
      endNs: 30n,
    });
    const child = { ...attempt('2'.repeat(16), 20n, false), parentSpanId: root.spanId };
    expect(rollUpTask('t', [root, child]).task.outcome).toBe('failed');
  });
});
