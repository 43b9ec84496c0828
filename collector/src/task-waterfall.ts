import type { TaskDetail, ToolCallView } from './api/views.js';
import { formatDuration } from './task-table.js';
import { terminalSafe } from './terminal-text.js';

export { terminalSafe };

const BAR_WIDTH = 30;
const ARGUMENTS_WIDTH = 100;

const cell = (value: string, width: number) => {
  const safe = terminalSafe(value);
  return safe.length > width ? `${safe.slice(0, width - 1)}…` : safe.padEnd(width);
};

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

const resultText = (call: ToolCallView) =>
  call.outcome === 'error' ? `error ${call.errorType ?? 'unknown'}` : 'ok';

/**
 * One task as the terminal shows it: its figures, then its tool calls in time order, each with a bar
 * of its duration against the task's, the retry linked to the attempt it repeats, and its redacted
 * arguments.
 */
export const formatTaskWaterfall = ({ task, calls }: TaskDetail): string => {
  const number = new Map(calls.map((call, index) => [call.spanId, index + 1]));
  const retriedBy = new Map(
    calls.filter((call) => call.retryOf !== null).map((call) => [call.retryOf, call.spanId]),
  );
  const scale = Math.max(task.durationMs, ...calls.map((call) => call.durationMs), 1);
  const lines = [
    `${terminalSafe(task.taskId)}  ${task.outcome}  ${formatDuration(task.durationMs)}  started ${task.startTime}`,
    [
      `services ${terminalSafe(task.services.join(', ')) || '-'}`,
      `${plural(task.toolCalls, 'call', 'calls')}, ${task.failedCalls} failed, ${plural(task.retries, 'retry', 'retries')}`,
      `tokens ${task.inputTokens} in / ${task.outputTokens} out`,
      `auth failures ${task.authFailures}`,
      `feedback ${task.feedback?.verdict ?? '-'}`,
    ].join(' · '),
    '',
  ];
  if (calls.length === 0) return [...lines, 'no tool calls'].join('\n');
  lines.push(
    `${' #'.padEnd(4)}${cell('TOOL', 24)}  ${cell('SERVICE', 18)}  ${cell('RESULT', 20)}  ${'DURATION'.padStart(8)}  ${cell('', BAR_WIDTH)}  RETRY`.trimEnd(),
  );
  for (const [index, call] of calls.entries()) {
    const bar = '█'.repeat(Math.max(1, Math.round((BAR_WIDTH * call.durationMs) / scale)));
    const retried = retriedBy.get(call.spanId);
    const links = [
      call.retryOf === null ? '' : `retry of #${number.get(call.retryOf) ?? '?'}`,
      retried === undefined ? '' : `retried by #${number.get(retried)}`,
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(
      `${String(index + 1).padStart(2)}  ${cell(call.tool, 24)}  ${cell(call.service, 18)}  ${cell(resultText(call), 20)}  ${formatDuration(call.durationMs).padStart(8)}  ${bar.padEnd(BAR_WIDTH)}  ${links}`.trimEnd(),
    );
    if (call.arguments !== null && call.arguments !== undefined) {
      lines.push(`    args ${cell(JSON.stringify(call.arguments), ARGUMENTS_WIDTH).trimEnd()}`);
    }
  }
  return lines.join('\n');
};
