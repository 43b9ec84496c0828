import { describe, expect, it } from 'vitest';
import type { SpanFacts } from './span-facts.js';
import { isTask } from './task-rollup.js';

const facts = (overrides: Partial<SpanFacts>): SpanFacts => ({
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  parentSpanId: null,
  kind: 'server',
  startNs: 0n,
  endNs: 1n,
  serviceName: 'runbook-server',
  statusError: false,
  method: null,
  tool: null,
  taskId: null,
  fingerprint: null,
  errorType: null,
  arguments: null,
  inputTokens: null,
  outputTokens: null,
  authOutcome: null,
  authReason: null,
  authSide: null,
  feedbackVerdict: null,
  feedbackNote: null,
  ...overrides,
});

describe('which traces are tasks', () => {
  it('a rejected token alone in its trace is an auth event, not a (failed) task', () => {
    expect(isTask([facts({ authOutcome: 'failure', authReason: 'invalid_token', statusError: true })])).toBe(
      false,
    );
  });

  it('connection set-up outside any task is not a task', () => {
    expect(isTask([facts({ method: 'initialize' }), facts({ method: 'notifications/initialized' })])).toBe(
      false,
    );
  });

  it('a tool call, an agent span or an explicit task id makes a task', () => {
    expect(isTask([facts({ method: 'tools/call', tool: 'plan_changes' })])).toBe(true);
    expect(isTask([facts({ method: null, kind: 'internal', statusError: true })])).toBe(true);
    expect(isTask([facts({ method: 'initialize', taskId: 'task-1' })])).toBe(true);
  });
});
