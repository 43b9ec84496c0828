import type { TaskSummary } from './api/views.js';
import { terminalSafe } from './terminal-text.js';

const cell = (value: string, width: number) => {
  const safe = terminalSafe(value);
  return safe.length > width ? `${safe.slice(0, width - 1)}…` : safe.padEnd(width);
};

/** A duration in the unit a reader takes in at a glance: `4.2ms`, `850ms`, `12.34s`, `3m07s`, `1h02m`. */
export const formatDuration = (ms: number): string => {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
};

/** Recent tasks as a fixed-width table, newest first. */
export const formatTaskTable = (tasks: readonly TaskSummary[]): string => {
  const columns: [string, number, (task: TaskSummary) => string][] = [
    ['TASK', 34, (task) => task.taskId],
    ['STARTED', 24, (task) => task.startTime],
    ['OUTCOME', 9, (task) => task.outcome],
    ['DURATION', 10, (task) => formatDuration(task.durationMs)],
    ['CALLS', 6, (task) => String(task.toolCalls)],
    ['FAILED', 6, (task) => String(task.failedCalls)],
    ['RETRIES', 7, (task) => String(task.retries)],
    ['TOKENS IN/OUT', 15, (task) => `${task.inputTokens}/${task.outputTokens}`],
    ['AUTH FAIL', 9, (task) => String(task.authFailures)],
    ['FEEDBACK', 9, (task) => task.feedback?.verdict ?? '-'],
    ['SERVICES', 30, (task) => task.services.join(',')],
  ];
  const line = (values: string[]) =>
    values
      .map((value, index) => cell(value, columns[index]?.[1] ?? value.length))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map(([title]) => title)),
    ...tasks.map((task) => line(columns.map(([, , read]) => read(task)))),
  ].join('\n');
};

/** `--since`: a duration back from now (`90s`, `15m`, `2h`, `7d`), else what the API takes (ISO 8601, Unix ms). */
export const sinceToFrom = (since: string, now = Date.now()): string => {
  const relative = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(since.trim());
  if (!relative) return since;
  const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
  return new Date(now - Number(relative[1]) * unitMs).toISOString();
};
