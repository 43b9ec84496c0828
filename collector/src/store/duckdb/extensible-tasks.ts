import type { DuckDBConnection } from '@duckdb/node-api';
import {
  attemptGroup,
  callOutcomeOf,
  CALL_FAILED_SQL,
  LAST_ATTEMPT_OF_GROUP_SQL,
  type SpanFacts,
  type StoredTask,
} from '../../rollup/index.js';
import { taskRollupFromRow } from './rollup-rows.js';
import type { TraceRow } from './stored-spans.js';
import { idsParameter, nullableStr, str } from './values.js';

/**
 * Stored tasks of at least `incrementalTaskSpans` spans that a rollup can extend instead of
 * recomputing: every trace of theirs in the batch is new (no stored trace joined or left them) and
 * starts after their stored end, and their row says how their earliest root ended.
 */
export const extensibleTasks = async (
  connection: DuckDBConnection,
  {
    traces,
    factsByTrace,
    newTraceIds,
    previousTaskIds,
    incrementalTaskSpans,
  }: {
    traces: readonly TraceRow[];
    factsByTrace: ReadonlyMap<string, SpanFacts[]>;
    newTraceIds: ReadonlySet<string>;
    previousTaskIds: ReadonlySet<string>;
    incrementalTaskSpans: number;
  },
): Promise<Map<string, StoredTask>> => {
  const extensible = new Map<string, StoredTask>();
  const storedSpans = new Map<string, number>();
  const earliestNewStart = new Map<string, bigint>();
  const blocked = new Set<string>();
  for (const trace of traces) {
    const batchFacts = factsByTrace.get(trace.traceId);
    if (batchFacts === undefined) {
      storedSpans.set(trace.taskId, (storedSpans.get(trace.taskId) ?? 0) + trace.spanCount);
      continue;
    }
    if (!newTraceIds.has(trace.traceId)) blocked.add(trace.taskId);
    for (const facts of batchFacts) {
      const earliest = earliestNewStart.get(trace.taskId);
      if (earliest === undefined || facts.startNs < earliest)
        earliestNewStart.set(trace.taskId, facts.startNs);
    }
  }
  const candidates = [...storedSpans]
    .filter(
      ([taskId, spans]) =>
        // Only tasks with a stored trace are here: a new task is never extended.
        spans >= incrementalTaskSpans &&
        earliestNewStart.has(taskId) &&
        !blocked.has(taskId) &&
        !previousTaskIds.has(taskId),
    )
    .map(([taskId]) => taskId);
  if (candidates.length === 0) return extensible;
  const candidateIds = idsParameter(candidates);
  const rows = (
    await connection.runAndReadAll(
      'SELECT * FROM tasks WHERE task_id IN (SELECT unnest($ids)) AND root_state IS NOT NULL',
      candidateIds.values,
      candidateIds.types,
    )
  ).getRowObjectsJS();
  for (const row of rows) {
    const task = taskRollupFromRow(row);
    if ((earliestNewStart.get(task.taskId) ?? 0n) > task.endNs)
      extensible.set(task.taskId, { task, lastAttempts: new Map(), ungroupedFailed: false });
  }
  if (extensible.size === 0) return extensible;
  // The last attempt of every group, and any failed call without a fingerprint (always final).
  const extensibleIds = idsParameter([...extensible.keys()]);
  const attempts = (
    await connection.runAndReadAll(
      `SELECT task_id, service, tool, fingerprint, span_id, outcome FROM calls
       WHERE task_id IN (SELECT unnest($ids)) AND (fingerprint IS NOT NULL OR ${CALL_FAILED_SQL})
       QUALIFY fingerprint IS NULL OR ${LAST_ATTEMPT_OF_GROUP_SQL}`,
      extensibleIds.values,
      extensibleIds.types,
    )
  ).getRowObjectsJS();
  for (const row of attempts) {
    const stored = extensible.get(str(row.task_id));
    if (stored === undefined) continue;
    const fingerprint = nullableStr(row.fingerprint);
    if (fingerprint === null) {
      stored.ungroupedFailed = true;
      continue;
    }
    stored.lastAttempts.set(attemptGroup({ service: str(row.service), tool: str(row.tool), fingerprint }), {
      spanId: str(row.span_id),
      outcome: callOutcomeOf(row.outcome),
    });
  }
  return extensible;
};
