import type { DuckDBConnection } from '@duckdb/node-api';
import type {
  CheckpointPage,
  CheckpointQuery,
  CheckpointView,
  TaskCheckpoints,
  WritePage,
  WriteQuery,
  WriteView,
} from '../../api/checkpoint-views.js';
import {
  checkpointStates,
  checkpointSummary,
  writesOf,
  type CheckpointState,
  type WriteFacts,
} from '../../rollup/checkpoints.js';
import { msToNs } from '../../rollup/index.js';
import {
  allDecisionSteps,
  decisionStepsOf,
  executionsClaiming,
  executionsStartedIn,
  stepsInTraces,
  tasksOfTraces,
  tracesOfTask,
} from './checkpoint-steps.js';
import { MAX_NS } from './values.js';

/** The API's reads of checkpoints and writes: rows from `checkpoint-steps.ts`, verdicts from the rules. */

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const writeView = (write: WriteFacts, tasks: ReadonlyMap<string, string>): WriteView => ({
  traceId: write.traceId,
  taskId: tasks.get(write.traceId) ?? null,
  callerSpanId: write.callerSpanId,
  serverSpanId: write.serverSpanId,
  tool: write.tool,
  service: write.service,
  checkpointId: write.checkpointId,
  startTime: new Date(write.startMs).toISOString(),
  verdict: write.verdict ?? 'not_executed',
  orphaned: write.orphaned,
  destructive: write.destructive,
  callerErrorType: write.callerErrorType,
  serverErrorType: write.serverErrorType,
});

const checkpointView = (
  state: CheckpointState,
  writes: readonly WriteFacts[],
  tasks: ReadonlyMap<string, string>,
  nowMs: number,
): CheckpointView => ({
  checkpointId: state.checkpointId,
  taskId: tasks.get(state.traceId) ?? null,
  traceId: state.traceId,
  kind: state.kind,
  tool: state.tool,
  service: state.service,
  status: state.status,
  requestedAt: new Date(state.requestedAtMs).toISOString(),
  decidedAt: iso(state.decidedAtMs),
  waitMs: state.waitMs,
  pendingMs: state.status === 'pending' ? Math.max(0, nowMs - state.requestedAtMs) : null,
  reviewer: state.reviewer,
  expiresAt: iso(state.expiresAtMs),
  mode: state.mode,
  stateVersion: state.stateVersion,
  writes: writes.filter((write) => write.checkpointId === state.checkpointId).map((w) => writeView(w, tasks)),
});

/** The checkpoints (with the writes that claim them) of these ids. */
const checkpointsWithWrites = async (connection: DuckDBConnection, ids: readonly string[]) => {
  const claiming = await executionsClaiming(connection, ids);
  const claimedIds = claiming.flatMap((step) => (step.checkpointId === null ? [] : [step.checkpointId]));
  const states = checkpointStates(await decisionStepsOf(connection, [...new Set([...ids, ...claimedIds])]));
  return { states, writes: writesOf(claiming, states) };
};

/** Checkpoints the filters select, most recently requested first, and what is pending now. */
export const listCheckpoints = async (
  connection: DuckDBConnection,
  query: CheckpointQuery,
  nowMs: number,
): Promise<CheckpointPage> => {
  const selected = [...checkpointStates(await allDecisionSteps(connection)).values()].filter(
    (state) =>
      (query.service === undefined || state.service === query.service) &&
      (query.tool === undefined || state.tool === query.tool) &&
      (query.fromMs === undefined || state.requestedAtMs >= query.fromMs) &&
      (query.toMs === undefined || state.requestedAtMs < query.toMs),
  );
  const pending = selected.filter((state) => state.status === 'pending');
  const matching = selected
    .filter((state) => query.status === undefined || state.status === query.status)
    .sort((a, b) => b.requestedAtMs - a.requestedAtMs || (a.checkpointId < b.checkpointId ? 1 : -1));
  const offset = query.offset ?? 0;
  const page = matching.slice(offset, offset + query.limit);
  const { writes } = await checkpointsWithWrites(
    connection,
    page.map((state) => state.checkpointId),
  );
  const tasks = await tasksOfTraces(connection, [
    ...page.map((state) => state.traceId),
    ...writes.map((write) => write.traceId),
  ]);
  const oldest = Math.min(...pending.map((state) => state.requestedAtMs));
  return {
    pending: { count: pending.length, oldestPendingMs: pending.length === 0 ? null : nowMs - oldest },
    total: matching.length,
    checkpoints: page.map((state) => checkpointView(state, writes, tasks, nowMs)),
  };
};

/** The writes whose calls started in the range, with their checkpoints' verdicts. */
const writesStartedIn = async (connection: DuckDBConnection, query: WriteQuery) => {
  const executions = await executionsStartedIn(
    connection,
    query.fromMs === undefined ? -MAX_NS : msToNs(query.fromMs),
    query.toMs === undefined ? MAX_NS : msToNs(query.toMs),
  );
  const ids = executions.flatMap((step) => (step.checkpointId === null ? [] : [step.checkpointId]));
  const states = checkpointStates(await decisionStepsOf(connection, [...new Set(ids)]));
  return writesOf(executions, states);
};

/** Writes the filters select, newest first, and the counts of their verdicts. */
export const listWrites = async (connection: DuckDBConnection, query: WriteQuery): Promise<WritePage> => {
  const selected = (await writesStartedIn(connection, query)).filter(
    (write) =>
      (query.service === undefined || write.service === query.service) &&
      (query.tool === undefined || write.tool === query.tool),
  );
  const { writes: counts } = checkpointSummary([], selected);
  const matching = selected
    .filter(
      (write) =>
        (query.verdict === undefined || (write.verdict ?? 'not_executed') === query.verdict) &&
        (query.orphaned === undefined || write.orphaned === query.orphaned),
    )
    .sort((a, b) => b.startMs - a.startMs || (a.key < b.key ? 1 : -1));
  const offset = query.offset ?? 0;
  const page = matching.slice(offset, offset + query.limit);
  const tasks = await tasksOfTraces(
    connection,
    page.map((write) => write.traceId),
  );
  return { total: matching.length, counts, writes: page.map((write) => writeView(write, tasks)) };
};

/** A task's checkpoints (those proposed in its traces) and writes (those executed in its traces). */
export const taskCheckpoints = async (
  connection: DuckDBConnection,
  taskId: string,
  nowMs: number,
): Promise<TaskCheckpoints> => {
  const traceIds = await tracesOfTask(connection, taskId);
  const steps = await stepsInTraces(connection, traceIds);
  const ids = [...new Set(steps.flatMap((step) => (step.checkpointId === null ? [] : [step.checkpointId])))];
  const states = checkpointStates(await decisionStepsOf(connection, ids));
  const inTask = new Set(traceIds);
  const checkpoints = [...states.values()]
    .filter((state) => inTask.has(state.traceId))
    .sort((a, b) => a.requestedAtMs - b.requestedAtMs);
  const writes = writesOf(steps, states).sort((a, b) => a.startMs - b.startMs);
  const { writes: claiming } = await checkpointsWithWrites(
    connection,
    checkpoints.map((state) => state.checkpointId),
  );
  const tasks = await tasksOfTraces(connection, [...traceIds, ...claiming.map((write) => write.traceId)]);
  const summary = checkpointSummary(checkpoints, writes);
  return {
    ...summary,
    checkpoints: checkpoints.map((state) => checkpointView(state, claiming, tasks, nowMs)),
    writeList: writes.map((write) => writeView(write, tasks)),
  };
};

/** Every checkpoint still pending. */
export const pendingCheckpoints = async (connection: DuckDBConnection): Promise<CheckpointState[]> =>
  [...checkpointStates(await allDecisionSteps(connection)).values()].filter(
    (state) => state.status === 'pending',
  );

/** The current states of these checkpoints and the writes in these traces or claiming them (for metrics). */
export const checkpointsAndWrites = async (
  connection: DuckDBConnection,
  checkpointIds: readonly string[],
  traceIds: readonly string[],
): Promise<{ checkpoints: CheckpointState[]; writes: WriteFacts[] }> => {
  const claiming = await executionsClaiming(connection, checkpointIds);
  const inTraces = (await stepsInTraces(connection, traceIds)).filter((step) => step.step === 'execute');
  const seen = new Set<string>();
  const executions = [...claiming, ...inTraces].filter((step) => {
    const key = `${step.traceId}:${step.spanId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const claimed = executions.flatMap((step) => (step.checkpointId === null ? [] : [step.checkpointId]));
  const states = checkpointStates(
    await decisionStepsOf(connection, [...new Set([...checkpointIds, ...claimed])]),
  );
  return {
    checkpoints: checkpointIds.flatMap((id) => {
      const state = states.get(id);
      return state === undefined ? [] : [state];
    }),
    writes: writesOf(executions, states),
  };
};
