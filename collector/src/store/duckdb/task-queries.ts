import { VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import type { TaskDetail, TaskPage, TaskQuery, TaskSummary, ToolCallView } from '../../api/views.js';
import { msToNs, type CallDetail, type FeedbackVerdict } from '../../rollup/index.js';
import { callFromRow, taskRollupFromRow } from './rollup-rows.js';
import { big, nullableStr, str, type Row } from './values.js';

const parseArguments = (text: string | null): unknown => {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

/** A call's rounds and task, as the API shows them (absent for a plain call). */
const roundsAndTaskView = (detail: CallDetail | null): Pick<ToolCallView, 'inputRequired' | 'mcpTask'> => {
  if (detail === null) return {};
  const rounds = detail.inputRounds ?? 0;
  return {
    ...(rounds > 0 && { inputRequired: { rounds, waitMs: detail.inputWaitMs ?? 0 } }),
    ...(detail.mcpTaskId !== undefined && {
      mcpTask: {
        taskId: detail.mcpTaskId,
        status: detail.mcpTaskStatus ?? null,
        inputRequiredMs: rounds > 0 ? 0 : (detail.inputWaitMs ?? 0),
      },
    }),
  };
};

const isoFromNs = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();

/**
 * The tasks a query selects (aliased `t`), each with its latest verdict, from the API or from an
 * evaluator's span: only the selected tasks' feedback is read, found through their own trace ids.
 */
const withFeedback = (selectTasks: string, orderBy = ''): string => `
  WITH t AS (${selectTasks}),
  verdicts AS (
    SELECT task_id, verdict, note, recorded_ms FROM feedback WHERE task_id IN (SELECT task_id FROM t)
    UNION ALL
    SELECT tt.task_id, sf.verdict, sf.note, sf.recorded_ms
    FROM (SELECT task_id, unnest(trace_ids) AS trace_id FROM t) tt JOIN span_feedback sf USING (trace_id)
  )
  SELECT t.*, f.verdict AS feedback_verdict, f.note AS feedback_note, f.recorded_ms AS feedback_recorded_ms
  FROM t
  LEFT JOIN (
    SELECT task_id, arg_max(verdict, recorded_ms) AS verdict, arg_max(note, recorded_ms) AS note,
      max(recorded_ms) AS recorded_ms
    FROM verdicts GROUP BY task_id
  ) f ON f.task_id = t.task_id
  ${orderBy}`;

const taskFromRow = (row: Row): TaskSummary => {
  const task = taskRollupFromRow(row);
  return {
    taskId: task.taskId,
    traceIds: task.traceIds,
    outcome: task.outcome,
    startTime: isoFromNs(task.startNs),
    durationMs: task.durationMs,
    services: task.services,
    toolCalls: task.toolCalls,
    failedCalls: task.failedCalls,
    retries: task.retries,
    inputTokens: task.inputTokens,
    outputTokens: task.outputTokens,
    authFailures: task.authFailures,
    feedback:
      row.feedback_verdict === null || row.feedback_verdict === undefined
        ? null
        : {
            verdict: str(row.feedback_verdict) as FeedbackVerdict,
            note: nullableStr(row.feedback_note),
            recordedAt: new Date(Number(row.feedback_recorded_ms)).toISOString(),
          },
  };
};

const TASK_ORDER = 'ORDER BY t.start_ns DESC, t.task_id DESC';

/** One page of tasks, newest first, filtered as the query says. */
export const listTasks = async (connection: DuckDBConnection, query: TaskQuery): Promise<TaskPage> => {
  const conditions: string[] = [];
  const values: Record<string, bigint | string | number> = {};
  if (query.fromMs !== undefined) {
    conditions.push('t.start_ns >= $from');
    values.from = msToNs(query.fromMs);
  }
  if (query.toMs !== undefined) {
    conditions.push('t.start_ns < $to');
    values.to = msToNs(query.toMs);
  }
  if (query.outcome !== undefined) {
    conditions.push('t.outcome = $outcome');
    values.outcome = query.outcome;
  }
  if (query.service !== undefined) {
    conditions.push('list_contains(t.services, $service)');
    values.service = query.service;
  }
  if (query.tool !== undefined) {
    conditions.push('list_contains(t.tools, $tool)');
    values.tool = query.tool;
  }
  if (query.after !== undefined) {
    conditions.push('(t.start_ns < $afterStart OR (t.start_ns = $afterStart AND t.task_id < $afterTask))');
    values.afterStart = query.after.startNs;
    values.afterTask = query.after.taskId;
  }
  values.limit = query.limit;
  values.offset = query.offset ?? 0;
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const reader = await connection.runAndReadAll(
    withFeedback(`SELECT * FROM tasks t ${where} ${TASK_ORDER} LIMIT $limit OFFSET $offset`, TASK_ORDER),
    values,
  );
  const rows = reader.getRowObjectsJS();
  const lastRow = rows.at(-1);
  return {
    tasks: rows.map(taskFromRow),
    last:
      rows.length === query.limit && lastRow !== undefined
        ? { startNs: big(lastRow.start_ns), taskId: str(lastRow.task_id) }
        : null,
  };
};

/** One task with its calls in the order they started. */
export const getTask = async (connection: DuckDBConnection, taskId: string): Promise<TaskDetail | null> => {
  const taskRows = (
    await connection.runAndReadAll(withFeedback('SELECT * FROM tasks t WHERE t.task_id = $taskId'), {
      taskId,
    })
  ).getRowObjectsJS();
  const taskRow = taskRows[0];
  if (taskRow === undefined) return null;
  const callRows = (
    await connection.runAndReadAll(
      // Every call starts inside its task: the time bounds let DuckDB skip the row groups
      // outside them instead of comparing the task id of every stored call.
      `SELECT * FROM calls WHERE task_id = $taskId AND start_ns BETWEEN $startNs AND $endNs
       ORDER BY start_ns, span_id`,
      { taskId, startNs: big(taskRow.start_ns), endNs: big(taskRow.end_ns) },
    )
  ).getRowObjectsJS();
  return {
    task: taskFromRow(taskRow),
    calls: callRows.map(callFromRow).map((call): ToolCallView => ({
      spanId: call.spanId,
      startTime: isoFromNs(call.startNs),
      offsetMs: Number(call.startNs - big(taskRow.start_ns)) / 1e6,
      traceId: call.traceId,
      service: call.service,
      method: call.method,
      tool: call.tool,
      outcome: call.outcome,
      errorType: call.errorType,
      durationMs: call.durationMs,
      arguments: parseArguments(call.arguments),
      retryOf: call.retryOf,
      ...roundsAndTaskView(call.detail),
    })),
  };
};

/** Records a verdict from the API; false when the task is unknown. */
export const recordTaskFeedback = async (
  connection: DuckDBConnection,
  { taskId, verdict, note }: { taskId: string; verdict: FeedbackVerdict; note: string | null },
): Promise<boolean> => {
  const known = await connection.runAndReadAll('SELECT 1 FROM tasks WHERE task_id = $taskId LIMIT 1', {
    taskId,
  });
  if (known.currentRowCount === 0) return false;
  const recorded = BigInt(Date.now());
  await connection.run(
    "INSERT INTO feedback VALUES ($taskId, $verdict, $note, 'api', $recorded)",
    { taskId, verdict, note, recorded },
    { note: VARCHAR },
  );
  // Only the latest verdict is ever read: earlier ones would only grow the table.
  await connection.run(
    "DELETE FROM feedback WHERE task_id = $taskId AND source = 'api' AND recorded_ms < $recorded",
    { taskId, recorded },
  );
  return true;
};
