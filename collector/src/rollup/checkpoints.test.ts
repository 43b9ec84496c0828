import { describe, expect, it } from 'vitest';
import type { CheckpointStep } from './checkpoint-steps.js';
import { checkpointStates, checkpointSummary, writesOf } from './checkpoints.js';

const MS = 1_000_000n;

const step = (
  overrides: Partial<CheckpointStep> & Pick<CheckpointStep, 'step' | 'spanId'>,
): CheckpointStep => ({
  traceId: 'trace-a',
  parentSpanId: null,
  checkpointId: 'cp-1',
  kind: 'app',
  tool: 'apply',
  service: 'infra',
  spanKind: 'internal',
  startNs: 1_000n * MS,
  endNs: 1_001n * MS,
  outcome: null,
  reviewer: null,
  requestedAtMs: null,
  expiresAtMs: null,
  mode: null,
  argumentsFingerprint: 'f-1',
  stateVersion: 'v1',
  readOnly: null,
  destructive: null,
  idempotent: null,
  errorType: null,
  ...overrides,
});

const propose = step({ step: 'propose', spanId: 'p' });
const decide = (outcome: CheckpointStep['outcome']) =>
  step({
    step: 'decide',
    spanId: 'd',
    traceId: 'trace-b',
    outcome,
    startNs: 5_000n * MS,
    endNs: 5_000n * MS,
  });
const caller = (overrides: Partial<CheckpointStep> = {}) =>
  step({
    step: 'execute',
    spanId: 'c',
    traceId: 'trace-c',
    spanKind: 'client',
    readOnly: false,
    destructive: true,
    startNs: 6_000n * MS,
    endNs: 6_200n * MS,
    ...overrides,
  });
const server = (overrides: Partial<CheckpointStep> = {}) =>
  step({
    step: 'execute',
    spanId: 's',
    parentSpanId: 'c',
    traceId: 'trace-c',
    spanKind: 'server',
    readOnly: false,
    destructive: true,
    startNs: 6_010n * MS,
    endNs: 6_190n * MS,
    ...overrides,
  });

const permutations = <T>(items: readonly T[]): T[][] =>
  items.length <= 1
    ? [[...items]]
    : items.flatMap((item, index) =>
        permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
      );

const verdicts = (steps: readonly CheckpointStep[]) => {
  const states = checkpointStates(steps);
  return writesOf(steps, states).map((w) => ({ verdict: w.verdict, orphaned: w.orphaned }));
};

describe('checkpoint rules', () => {
  it('give the same checkpoint and verdict whatever order the steps arrive in', () => {
    for (const order of permutations([propose, decide('approved'), caller(), server()])) {
      expect(checkpointStates(order).get('cp-1')).toMatchObject({ status: 'approved', waitMs: 4000 });
      expect(verdicts(order)).toEqual([{ verdict: 'approved', orphaned: false }]);
    }
  });

  it('rank modified above stale, and anything not approved as unapproved', () => {
    const approved = [propose, decide('approved')];
    expect(verdicts([...approved, server({ argumentsFingerprint: 'f-2', stateVersion: 'v2' })])).toEqual([
      { verdict: 'modified', orphaned: false },
    ]);
    expect(verdicts([...approved, server({ stateVersion: 'v2' })])).toEqual([
      { verdict: 'stale', orphaned: false },
    ]);
    for (const outcome of ['rejected', 'expired', 'cancelled'] as const)
      expect(verdicts([propose, decide(outcome), server()])).toEqual([
        { verdict: 'unapproved', orphaned: false },
      ]);
    expect(verdicts([propose, server()])).toEqual([{ verdict: 'unapproved', orphaned: false }]);
  });

  it('count a write that never reached the server as not executed, and a read as no write', () => {
    expect(verdicts([caller({ errorType: 'connection_closed' })])).toEqual([
      { verdict: null, orphaned: false },
    ]);
    expect(verdicts([caller({ readOnly: true }), server({ readOnly: true })])).toEqual([]);
  });

  it('call a write orphaned when the server finished after its caller gave up', () => {
    const approved = [propose, decide('approved')];
    expect(verdicts([...approved, caller({ errorType: 'timeout' }), server()])).toEqual([
      { verdict: 'approved', orphaned: true },
    ]);
    expect(verdicts([...approved, caller({ endNs: 6_100n * MS }), server()])).toEqual([
      { verdict: 'approved', orphaned: true },
    ]);
    expect(
      verdicts([...approved, caller({ errorType: 'timeout' }), server({ errorType: 'tool_error' })]),
    ).toEqual([{ verdict: 'approved', orphaned: false }]);
  });

  it('wait from the requested time the decision carries, else from the proposal', () => {
    const late = step({
      step: 'decide',
      spanId: 'd',
      outcome: 'approved',
      requestedAtMs: 500,
      endNs: 2_000n * MS,
    });
    expect(checkpointStates([late]).get('cp-1')).toMatchObject({ waitMs: 1500, requestedAtMs: 500 });
    expect(checkpointStates([propose]).get('cp-1')).toMatchObject({ status: 'pending', waitMs: null });
    const summary = checkpointSummary([...checkpointStates([propose]).values()], []);
    expect(summary.outcomes.pending).toBe(1);
    expect(summary.waitMs).toBeNull();
  });
});
