import { ERROR_TYPE_CANCELLED, ERROR_TYPE_TIMEOUT } from '@mcpscope/instrumentation/conventions';
import type { CheckpointStatus } from './checkpoint-conventions.js';
import type { CheckpointStep } from './checkpoint-steps.js';

/**
 * The product rules of human checkpoints and writes, pure: a checkpoint's status and wait, which
 * calls are writes, a write's verdict, an orphaned write. Every answer is computed from all the steps
 * stored for a checkpoint or a call, whatever order they arrived in.
 */

export interface CheckpointState {
  checkpointId: string;
  kind: string | null;
  tool: string | null;
  service: string;
  /** The trace of the proposal (of the decision when no proposal was seen): the checkpoint's task. */
  traceId: string;
  status: CheckpointStatus;
  requestedAtMs: number;
  decidedAtMs: number | null;
  waitMs: number | null;
  reviewer: string | null;
  expiresAtMs: number | null;
  mode: string | null;
  argumentsFingerprint: string | null;
  stateVersion: string | null;
}

const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n);

const earliest = (steps: readonly CheckpointStep[]): CheckpointStep | undefined =>
  [...steps].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0))[0];

/**
 * One checkpoint from its proposal and decision steps. Pending while no decision with an outcome is
 * seen; the wait runs from the proposal (its `requested_at` when the decision carries it) to the decision.
 */
export const checkpointState = (steps: readonly CheckpointStep[]): CheckpointState | null => {
  const propose = earliest(steps.filter((step) => step.step === 'propose'));
  const decide = earliest(steps.filter((step) => step.step === 'decide' && step.outcome !== null));
  const home = propose ?? decide;
  if (home === undefined || home.checkpointId === null) return null;
  const requestedAtMs = decide?.requestedAtMs ?? (propose === undefined ? null : nsToMs(propose.startNs));
  const decidedAtMs = decide === undefined ? null : nsToMs(decide.endNs);
  const requested = requestedAtMs ?? decidedAtMs ?? nsToMs(home.startNs);
  return {
    checkpointId: home.checkpointId,
    kind: propose?.kind ?? decide?.kind ?? null,
    tool: propose?.tool ?? decide?.tool ?? null,
    service: home.service,
    traceId: home.traceId,
    status: decide?.outcome ?? 'pending',
    requestedAtMs: requested,
    decidedAtMs,
    waitMs: decidedAtMs === null ? null : Math.max(0, decidedAtMs - requested),
    reviewer: decide?.reviewer ?? null,
    expiresAtMs: propose?.expiresAtMs ?? decide?.expiresAtMs ?? null,
    mode: propose?.mode ?? decide?.mode ?? null,
    argumentsFingerprint: propose?.argumentsFingerprint ?? decide?.argumentsFingerprint ?? null,
    stateVersion: propose?.stateVersion ?? decide?.stateVersion ?? null,
  };
};

/** Every checkpoint the steps describe, by id. */
export const checkpointStates = (steps: readonly CheckpointStep[]): Map<string, CheckpointState> => {
  const byId = new Map<string, CheckpointStep[]>();
  for (const step of steps) {
    if (step.step === 'execute' || step.checkpointId === null) continue;
    const list = byId.get(step.checkpointId);
    if (list === undefined) byId.set(step.checkpointId, [step]);
    else list.push(step);
  }
  const states = new Map<string, CheckpointState>();
  for (const [id, list] of byId) {
    const state = checkpointState(list);
    if (state !== null) states.set(id, state);
  }
  return states;
};

/** One tool call that claims a checkpoint or carries annotations: its caller span and its server span. */
export interface Execution {
  traceId: string;
  caller: CheckpointStep | null;
  server: CheckpointStep | null;
}

/** Pairs caller and server spans of one call: the server span is the caller span's child. */
export const pairExecutions = (steps: readonly CheckpointStep[]): Execution[] => {
  const executions = steps.filter((step) => step.step === 'execute');
  const callers = new Map<string, Execution>();
  const paired: Execution[] = [];
  for (const step of executions) {
    if (step.spanKind !== 'client') continue;
    const execution: Execution = { traceId: step.traceId, caller: step, server: null };
    callers.set(`${step.traceId}:${step.spanId}`, execution);
    paired.push(execution);
  }
  for (const step of executions) {
    if (step.spanKind !== 'server') continue;
    const caller =
      step.parentSpanId === null ? undefined : callers.get(`${step.traceId}:${step.parentSpanId}`);
    if (caller !== undefined && caller.server === null) caller.server = step;
    else paired.push({ traceId: step.traceId, caller: null, server: step });
  }
  return paired;
};

/** A stable key for a call: its caller span when one was seen, else its server span. */
export const executionKey = ({ traceId, caller, server }: Execution): string =>
  `${traceId}:${(caller ?? server)?.spanId ?? ''}`;

/** Each field from the side that knows it best: the server ran the tool, the caller claimed it. */
const known = <K extends keyof CheckpointStep>(execution: Execution, field: K): CheckpointStep[K] | null =>
  execution.server?.[field] ?? execution.caller?.[field] ?? null;

/** A call is a write iff its tool is annotated as not read-only (on either side). */
export const isWrite = (execution: Execution): boolean =>
  execution.server?.readOnly === false || execution.caller?.readOnly === false;

/** A write ran when its server span is present, or its caller span ended without error. */
export const executed = (execution: Execution): boolean =>
  execution.server !== null || (execution.caller !== null && execution.caller.errorType === null);

/** A write's verdict, worst first: each write is counted once, under the worst that applies. */
export const WRITE_VERDICTS = ['modified', 'unapproved', 'stale', 'approved'] as const;
export type WriteVerdict = (typeof WRITE_VERDICTS)[number];

/**
 * What an executed write's checkpoint says of it: `unapproved` without an approved checkpoint,
 * `modified` when the executed arguments' fingerprint differs from the approved one, `stale` when the
 * state version at execution differs from the proposal's, else `approved`. Null when it did not run.
 */
export const writeVerdict = (
  execution: Execution,
  checkpoint: CheckpointState | undefined,
): WriteVerdict | null => {
  if (!executed(execution)) return null;
  if (checkpoint?.status !== 'approved') return 'unapproved';
  const fingerprint = known(execution, 'argumentsFingerprint');
  if (
    checkpoint.argumentsFingerprint !== null &&
    fingerprint !== null &&
    fingerprint !== checkpoint.argumentsFingerprint
  )
    return 'modified';
  const stateVersion = known(execution, 'stateVersion');
  if (checkpoint.stateVersion !== null && stateVersion !== null && stateVersion !== checkpoint.stateVersion)
    return 'stale';
  return 'approved';
};

/** Caller error types that mean the caller went away while the server may have kept working. */
export const ORPHANING_CALLER_ERRORS: readonly string[] = [
  ERROR_TYPE_TIMEOUT,
  'connection_closed',
  ERROR_TYPE_CANCELLED,
];

/**
 * An orphaned write (the stuck-lock precursor): the server finished the write without error while
 * its caller had given up (timeout, closed connection, cancelled) or had already ended.
 */
export const isOrphanedWrite = ({ caller, server }: Execution): boolean =>
  isWrite({ traceId: '', caller, server }) &&
  caller !== null &&
  server !== null &&
  server.errorType === null &&
  ((caller.errorType !== null && ORPHANING_CALLER_ERRORS.includes(caller.errorType)) ||
    caller.endNs < server.endNs);

/** `destructive` as a label: what the tool's annotations said, or `unknown`. */
export const destructiveLabel = (execution: Execution): 'true' | 'false' | 'unknown' => {
  const destructive = known(execution, 'destructive');
  return destructive === null ? 'unknown' : destructive ? 'true' : 'false';
};

/** The facts of an execution that the API and the metrics show. */
export interface WriteFacts {
  key: string;
  traceId: string;
  callerSpanId: string | null;
  serverSpanId: string | null;
  tool: string | null;
  service: string;
  checkpointId: string | null;
  startMs: number;
  verdict: WriteVerdict | null;
  orphaned: boolean;
  destructive: 'true' | 'false' | 'unknown';
  callerErrorType: string | null;
  serverErrorType: string | null;
}

export const writeFacts = (
  execution: Execution,
  checkpoints: ReadonlyMap<string, CheckpointState>,
): WriteFacts => {
  const checkpointId = known(execution, 'checkpointId');
  const first = execution.caller ?? execution.server;
  return {
    key: executionKey(execution),
    traceId: execution.traceId,
    callerSpanId: execution.caller?.spanId ?? null,
    serverSpanId: execution.server?.spanId ?? null,
    tool: known(execution, 'tool'),
    service: (execution.server ?? execution.caller)?.service ?? '',
    checkpointId,
    startMs: first === null ? 0 : nsToMs(first.startNs),
    verdict: writeVerdict(execution, checkpointId === null ? undefined : checkpoints.get(checkpointId)),
    orphaned: isOrphanedWrite(execution),
    destructive: destructiveLabel(execution),
    callerErrorType: execution.caller?.errorType ?? null,
    serverErrorType: execution.server?.errorType ?? null,
  };
};

/** The writes among the steps' executions, with their verdicts. */
export const writesOf = (
  steps: readonly CheckpointStep[],
  checkpoints: ReadonlyMap<string, CheckpointState>,
): WriteFacts[] =>
  pairExecutions(steps)
    .filter(isWrite)
    .map((execution) => writeFacts(execution, checkpoints));

/** A percentile by linear interpolation between the closest ranks (as DuckDB's `quantile_cont`). */
export const percentile = (sorted: readonly number[], q: number): number => {
  if (sorted.length === 0) return 0;
  const rank = (sorted.length - 1) * q;
  const low = Math.floor(rank);
  const lower = sorted[low] ?? 0;
  const upper = sorted[Math.min(low + 1, sorted.length - 1)] ?? lower;
  return lower + (upper - lower) * (rank - low);
};

export type OutcomeCounts = Record<CheckpointStatus, number>;
export type VerdictCounts = Record<WriteVerdict, number> & { notExecuted: number; orphaned: number };

/** Counts by status, wait percentiles and write verdicts of one task's checkpoints and writes. */
export const checkpointSummary = (checkpoints: readonly CheckpointState[], writes: readonly WriteFacts[]) => {
  const outcomes: OutcomeCounts = { pending: 0, approved: 0, rejected: 0, expired: 0, cancelled: 0 };
  for (const checkpoint of checkpoints) outcomes[checkpoint.status] += 1;
  const waits = checkpoints.flatMap((c) => (c.waitMs === null ? [] : [c.waitMs])).sort((a, b) => a - b);
  const verdicts: VerdictCounts = {
    approved: 0,
    unapproved: 0,
    stale: 0,
    modified: 0,
    notExecuted: 0,
    orphaned: 0,
  };
  for (const write of writes) {
    if (write.verdict === null) verdicts.notExecuted += 1;
    else verdicts[write.verdict] += 1;
    if (write.orphaned) verdicts.orphaned += 1;
  }
  return {
    outcomes,
    // Whole milliseconds: the interpolation's float noise is no part of a wait.
    waitMs:
      waits.length === 0
        ? null
        : {
            p50: Math.round(percentile(waits, 0.5)),
            p95: Math.round(percentile(waits, 0.95)),
            max: waits.at(-1) ?? 0,
          },
    writes: verdicts,
  };
};
