import { describe, expect, it } from 'vitest';
import { isTask } from './task-rollup.js';
import { facts } from './test-support/facts.js';

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
