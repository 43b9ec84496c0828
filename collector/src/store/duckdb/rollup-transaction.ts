import { BIGINT, type DuckDBConnection } from '@duckdb/node-api';
import {
  extendTask,
  isTask,
  rollUpTask,
  spanKey,
  taskIdOfTrace,
  type SpanFacts,
  type TaskRollup,
  type ToolCallRollup,
} from '../../rollup/index.js';
import type { RollupResult } from '../ports.js';
import { appendCalls, appendTasks, appendToolStats, appendTraces } from './appenders.js';
import { extensibleTasks } from './extensible-tasks.js';
import type { PendingTrace } from './pending-ledger.js';
import { callFromRow } from './rollup-rows.js';
import {
  groupByTrace,
  loadFacts,
  loadFactsOfTraces,
  loadTraces,
  type KnownIds,
  type TraceRow,
} from './stored-spans.js';
import { idsParameter, inTransaction, report, varcharList, VARCHAR_LIST } from './values.js';

export interface RollupLimits {
  /** Spans a task may hold and still be recomputed (a rollup holds all of them in memory). */
  maxTaskSpans: number;
  /** From this many stored spans on, a task that only gains later traces is extended, not recomputed. */
  incrementalTaskSpans: number;
  /** Told once per task, per process, when a task is past `maxTaskSpans`. */
  onTaskTooLarge?: ((taskId: string, spans: number) => void) | undefined;
}

const deleteWhereIdIn = async (
  connection: DuckDBConnection,
  table: string,
  column: string,
  ids: string[],
) => {
  const parameter = idsParameter(ids);
  await connection.run(
    `DELETE FROM ${table} WHERE ${column} IN (SELECT unnest($ids))`,
    parameter.values,
    parameter.types,
  );
};

/**
 * One rollup transaction: recomputes (or extends) the tasks of pending traces, replaces their rows
 * in `traces`, `tasks` and `calls`, appends the tool stats' deltas, and clears the traces' marks in
 * `rollup_pending`, all committed together.
 */
export class RollupTransaction {
  /** Tasks past `maxTaskSpans` already reported. */
  private readonly tooLargeReported = new Set<string>();

  constructor(
    private readonly known: KnownIds,
    /** Traces set aside keep their marks for the next start. */
    private readonly setAside: ReadonlySet<string>,
    private readonly limits: RollupLimits,
    /** Told how many tool-stat rows a rollup appended, for compaction. */
    private readonly onToolStatRows: (rows: number) => void,
  ) {}

  async run(
    connection: DuckDBConnection,
    pending: ReadonlyMap<string, PendingTrace>,
    /** The last ingest commit whose marks this rollup clears; later ones stay for the next. */
    throughSeq: bigint,
    /** When the rollup takes this one trace alone: only its marks are cleared. */
    onlyTraceId?: string,
  ): Promise<RollupResult> {
    const batchTraceIds = [...pending.keys()];
    const knownTraces = await loadTraces(connection, this.known, 'trace_id', batchTraceIds);
    const knownById = new Map(knownTraces.map((trace) => [trace.traceId, trace]));
    // Pending spans are in the file too. Traces found pending at start-up have no facts in memory:
    // all their spans are read, wherever in time the new ones fall. The others read what is
    // within their known bounds and merge, by key, what is kept in memory.
    const recovered = new Set(batchTraceIds.filter((traceId) => pending.get(traceId)?.facts === undefined));
    const factsByKey = new Map<string, SpanFacts>();
    for (const facts of [
      ...(await loadFacts(
        connection,
        knownTraces.filter((trace) => !recovered.has(trace.traceId)),
      )),
      ...(await loadFactsOfTraces(connection, [...recovered])),
    ])
      factsByKey.set(spanKey(facts.traceId, facts.spanId), facts);
    for (const entry of pending.values())
      for (const facts of entry.facts ?? []) factsByKey.set(spanKey(facts.traceId, facts.spanId), facts);
    const factsByTrace = groupByTrace(factsByKey.values());

    const traceRows: TraceRow[] = [];
    const touchedTaskIds = new Set<string>();
    const incompleteTraceIds = new Set<string>();
    for (const traceId of batchTraceIds) {
      const traceFacts = factsByTrace.get(traceId) ?? [];
      const previous = knownById.get(traceId);
      const added = pending.get(traceId)?.count ?? 0;
      const complete = previous === undefined || traceFacts.length - added >= previous.spanCount;
      if (!complete) incompleteTraceIds.add(traceId);
      // Past retention the span naming the task may be gone: an incomplete trace keeps its task.
      const taskId = complete ? taskIdOfTrace(traceId, traceFacts) : previous.taskId;
      let minStartNs = previous?.minStartNs ?? traceFacts[0]?.startNs ?? 0n;
      let maxEndNs = previous?.maxEndNs ?? traceFacts[0]?.endNs ?? 0n;
      for (const facts of traceFacts) {
        if (facts.startNs < minStartNs) minStartNs = facts.startNs;
        if (facts.endNs > maxEndNs) maxEndNs = facts.endNs;
      }
      traceRows.push({
        traceId,
        taskId,
        minStartNs,
        maxEndNs,
        spanCount: (previous?.spanCount ?? 0) + added,
      });
      touchedTaskIds.add(taskId);
      // A late span can name the task of a trace that was its own task until now.
      if (previous !== undefined && previous.taskId !== taskId) touchedTaskIds.add(previous.taskId);
    }

    // A task the filter has never seen has no stored trace: its traces are all in this batch, and
    // finding them needs no scan of the `traces` table.
    const newTaskIds = new Set([...touchedTaskIds].filter((taskId) => !this.known.tasks.mayHave(taskId)));
    // Added before the rows exist: reading the tasks' traces below must find them, and an id the
    // filter holds in vain only costs a query.
    for (const trace of traceRows) {
      this.known.traces.add(trace.traceId);
      this.known.tasks.add(trace.taskId);
    }
    return inTransaction(connection, async () => {
      if (knownTraces.length > 0)
        await deleteWhereIdIn(
          connection,
          'traces',
          'trace_id',
          knownTraces.map((trace) => trace.traceId),
        );
      await appendTraces(connection, traceRows);
      const result = await this.rollUpTasks(connection, {
        taskIds: [...touchedTaskIds],
        tracesOfNewTasks: traceRows.filter((trace) => newTaskIds.has(trace.taskId)),
        factsByTrace,
        newTraceIds: new Set(batchTraceIds.filter((traceId) => !knownById.has(traceId))),
        previousTaskIds: knownTraces.map((trace) => trace.taskId),
        incompleteTraceIds,
      });
      await this.clearPendingMarks(connection, throughSeq, onlyTraceId);
      return result;
    });
  }

  /** Clears the marks of rolled-up traces; a trace set aside keeps its marks for the next start. */
  private async clearPendingMarks(
    connection: DuckDBConnection,
    throughSeq: bigint,
    onlyTraceId: string | undefined,
  ): Promise<void> {
    if (onlyTraceId !== undefined)
      await connection.run('DELETE FROM rollup_pending WHERE seq <= $seq AND trace_id = $traceId', {
        seq: throughSeq,
        traceId: onlyTraceId,
      });
    else if (this.setAside.size === 0)
      await connection.run('DELETE FROM rollup_pending WHERE seq <= $seq', { seq: throughSeq });
    else
      await connection.run(
        'DELETE FROM rollup_pending WHERE seq <= $seq AND trace_id NOT IN (SELECT unnest($kept))',
        { seq: throughSeq, kept: varcharList([...this.setAside]) },
        { seq: BIGINT, kept: VARCHAR_LIST },
      );
  }

  private async rollUpTasks(
    connection: DuckDBConnection,
    {
      taskIds,
      tracesOfNewTasks,
      factsByTrace,
      newTraceIds,
      previousTaskIds,
      incompleteTraceIds,
    }: {
      taskIds: readonly string[];
      /** Every trace of the tasks that no stored trace belonged to before this rollup. */
      tracesOfNewTasks: readonly TraceRow[];
      factsByTrace: ReadonlyMap<string, SpanFacts[]>;
      newTraceIds: ReadonlySet<string>;
      /** Tasks the batch's already-stored traces belonged to before this batch. */
      previousTaskIds: readonly string[];
      incompleteTraceIds: ReadonlySet<string>;
    },
  ): Promise<RollupResult> {
    const newTaskIds = new Set(tracesOfNewTasks.map((trace) => trace.taskId));
    const traces = [
      ...(await loadTraces(
        connection,
        this.known,
        'task_id',
        taskIds.filter((taskId) => !newTaskIds.has(taskId)),
      )),
      ...tracesOfNewTasks,
    ];
    const extended = await extensibleTasks(connection, {
      traces,
      factsByTrace,
      newTraceIds,
      previousTaskIds: new Set(previousTaskIds),
      incrementalTaskSpans: this.limits.incrementalTaskSpans,
    });
    // A stored task past maxTaskSpans keeps the rollup it had: recomputing it would hold all of its
    // spans in memory at once, and read them all back at every rollup that touches it.
    const spansByTask = new Map<string, number>();
    for (const trace of traces)
      spansByTask.set(trace.taskId, (spansByTask.get(trace.taskId) ?? 0) + trace.spanCount);
    const tooLarge = new Set<string>();
    for (const [taskId, spans] of spansByTask) {
      if (spans <= this.limits.maxTaskSpans || newTaskIds.has(taskId) || extended.has(taskId)) continue;
      tooLarge.add(taskId);
      if (!this.tooLargeReported.has(taskId)) {
        this.tooLargeReported.add(taskId);
        report(() => this.limits.onTaskTooLarge?.(taskId, spans));
      }
    }
    const missing = traces.filter(
      (trace) =>
        !factsByTrace.has(trace.traceId) && !tooLarge.has(trace.taskId) && !extended.has(trace.taskId),
    );
    const allFacts = new Map(factsByTrace);
    for (const facts of await loadFacts(connection, missing)) {
      const list = allFacts.get(facts.traceId);
      if (list === undefined) allFacts.set(facts.traceId, [facts]);
      else list.push(facts);
    }
    // A task whose raw spans retention already deleted keeps the rollup it had: recomputing it from
    // what is left would lose calls. Its new spans are stored all the same.
    const frozenTaskIds = new Set(
      traces
        .filter(
          (trace) =>
            !extended.has(trace.taskId) &&
            (tooLarge.has(trace.taskId) ||
              incompleteTraceIds.has(trace.traceId) ||
              (allFacts.get(trace.traceId)?.length ?? 0) < trace.spanCount),
        )
        .map((trace) => trace.taskId),
    );
    const recomputedTaskIds = taskIds.filter((taskId) => !frozenTaskIds.has(taskId));
    // Only tasks with a trace stored before this batch can have rows to replace.
    const storedTaskIds = [
      ...new Set([
        ...previousTaskIds,
        ...traces.filter((trace) => !newTraceIds.has(trace.traceId)).map((trace) => trace.taskId),
      ]),
    ].filter((taskId) => !frozenTaskIds.has(taskId) && !extended.has(taskId));
    // Recomputed and extended tasks alike get a new row; only recomputed ones get their calls anew.
    const replacedTaskIds = [...storedTaskIds, ...extended.keys()];
    if (replacedTaskIds.length > 0) await deleteWhereIdIn(connection, 'tasks', 'task_id', replacedTaskIds);
    let previousCalls: ToolCallRollup[] = [];
    if (storedTaskIds.length > 0) {
      const stored = idsParameter(storedTaskIds);
      previousCalls = (
        await connection.runAndReadAll(
          'SELECT * FROM calls WHERE task_id IN (SELECT unnest($ids))',
          stored.values,
          stored.types,
        )
      )
        .getRowObjectsJS()
        .map(callFromRow);
      await deleteWhereIdIn(connection, 'calls', 'task_id', storedTaskIds);
    }
    const wasRetry = new Set(
      previousCalls.filter((call) => call.retryOf !== null).map((call) => call.spanId),
    );

    const tracesByTask = new Map<string, TraceRow[]>();
    for (const trace of traces) {
      const list = tracesByTask.get(trace.taskId);
      if (list === undefined) tracesByTask.set(trace.taskId, [trace]);
      else list.push(trace);
    }
    const touchedTasks: TaskRollup[] = [];
    const removedTaskIds: string[] = [];
    const calls: ToolCallRollup[] = [];
    for (const taskId of recomputedTaskIds) {
      const stored = extended.get(taskId);
      if (stored !== undefined) {
        // Only the new traces' spans: the stored ones are summed up in `stored`.
        const newFacts = (tracesByTask.get(taskId) ?? []).flatMap(
          (trace) => factsByTrace.get(trace.traceId) ?? [],
        );
        const extension = extendTask(stored, newFacts);
        touchedTasks.push(extension.task);
        for (const call of extension.calls) calls.push(call);
        continue;
      }
      const taskFacts = (tracesByTask.get(taskId) ?? []).flatMap(
        (trace) => allFacts.get(trace.traceId) ?? [],
      );
      if (!isTask(taskFacts)) {
        removedTaskIds.push(taskId);
        continue;
      }
      const rollup = rollUpTask(taskId, taskFacts);
      touchedTasks.push(rollup.task);
      // Not push(...calls): a task of some 100,000 calls would overflow the call stack.
      for (const call of rollup.calls) calls.push(call);
    }
    await appendTasks(connection, touchedTasks);
    await appendCalls(connection, calls);
    this.onToolStatRows(await appendToolStats(connection, calls, previousCalls));
    // A retry is new when the span naming its call is; one still waiting for its caller is reported
    // at every rollup, so the metrics can count it under the caller once that arrives.
    const newRetries = calls.filter(
      (call) => call.retryOf !== null && (call.awaitingCaller || !wasRetry.has(call.spanId)),
    );
    return { touchedTasks, removedTaskIds, newRetries };
  }
}
