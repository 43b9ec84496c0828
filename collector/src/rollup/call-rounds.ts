import {
  ATTR_MCPSCOPE_INPUT_REQUIRED,
  ATTR_MCPSCOPE_INPUT_REQUIRED_ROUNDS,
  ATTR_MCPSCOPE_INPUT_REQUIRED_WAIT_MS,
  ATTR_MCPSCOPE_MCP_TASK_ID,
  ATTR_MCPSCOPE_MCP_TASK_STATUS,
  MCP_TASK_METHODS,
} from '@mcpscope/instrumentation/conventions';
import type { Attributes } from '../model/span.js';

/**
 * Protocol 2026-07-28 spreads one logical tool call over several requests: rounds answered
 * `input_required` and re-sent with the answers, and a call that became a task (tasks extension) polled
 * with `tasks/*` until it ends. What a span says of that, and how a call's outcome follows from it.
 */
export interface CallDetail {
  /** This request's answer asked for input: a round of a call, never a call of its own. */
  asked?: true;
  /** On a caller's span: rounds answered before the call completed, and how long answering took. */
  inputRounds?: number;
  inputWaitMs?: number;
  /** The task (tasks extension) the request created or polled, and the status it saw. */
  mcpTaskId?: string;
  mcpTaskStatus?: string;
  /** On a `tasks/result` span: the task's tool result was a tool error. */
  toolError?: true;
}

const TASK_METHODS = new Set<string>(MCP_TASK_METHODS);
export const isMcpTaskMethod = (method: string | null): boolean =>
  method !== null && TASK_METHODS.has(method);

/** Statuses after which a task changes no more. */
const TERMINAL_TASK_STATUSES = new Set(['completed', 'failed', 'cancelled']);
/** `error.type` of a call whose task ended `failed` or `cancelled`. */
export const taskErrorType = (status: string): string => `task_${status}`;

const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;

/** What a span's attributes say of rounds and tasks; null for the (many) spans that say nothing. */
export const callDetailOf = (
  attributes: Attributes,
  method: string | null,
  errorType: string | null,
): CallDetail | null => {
  const detail: CallDetail = {};
  if (attributes[ATTR_MCPSCOPE_INPUT_REQUIRED] === true) detail.asked = true;
  const rounds = count(attributes[ATTR_MCPSCOPE_INPUT_REQUIRED_ROUNDS]);
  if (rounds !== undefined && rounds > 0) {
    detail.inputRounds = Math.trunc(rounds);
    detail.inputWaitMs = count(attributes[ATTR_MCPSCOPE_INPUT_REQUIRED_WAIT_MS]) ?? 0;
  }
  const taskId = attributes[ATTR_MCPSCOPE_MCP_TASK_ID];
  if (typeof taskId === 'string' && taskId !== '') detail.mcpTaskId = taskId.slice(0, 256);
  const status = attributes[ATTR_MCPSCOPE_MCP_TASK_STATUS];
  if (typeof status === 'string' && status !== '') detail.mcpTaskStatus = status.slice(0, 64);
  if (method === 'tasks/result' && errorType === 'tool_error') detail.toolError = true;
  return Object.keys(detail).length === 0 ? null : detail;
};

/** The stored form of a detail (JSON text), and back; unreadable text reads as none. */
export const callDetailText = (detail: CallDetail | null): string | null =>
  detail === null ? null : JSON.stringify(detail);
export const callDetailFromText = (text: string | null): CallDetail | null => {
  if (text === null) return null;
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as CallDetail) : null;
  } catch {
    return null;
  }
};

/** A task request seen in the telemetry: what it said of the task and when it ended. */
export interface TaskPoll {
  detail: CallDetail | null;
  method: string | null;
  startNs: bigint;
  endNs: bigint;
}

/** What a call that became a task came to: its last status, when it was last seen, and its outcome. */
export interface TaskCourse {
  status: string | undefined;
  lastSeenNs: bigint;
  /** Time the polls saw the task waiting for input (`input_required`), in ms. */
  inputRequiredMs: number;
  errorType: string | null;
}

/**
 * Follows the task a call created through the polls of the same task: the last status seen, ended
 * `failed` or `cancelled` (an error of the call), or a tool error in its result.
 */
export const taskCourse = (
  created: CallDetail,
  createdEndNs: bigint,
  polls: readonly TaskPoll[],
): TaskCourse => {
  const ordered = [...polls].sort((a, b) => (a.endNs < b.endNs ? -1 : a.endNs > b.endNs ? 1 : 0));
  let status = created.mcpTaskStatus;
  let lastSeenNs = createdEndNs;
  let waitingSince: bigint | undefined = status === 'input_required' ? createdEndNs : undefined;
  let inputRequiredNs = 0n;
  let toolError = false;
  for (const poll of ordered) {
    if (poll.detail?.toolError) toolError = true;
    if (poll.endNs > lastSeenNs) lastSeenNs = poll.endNs;
    const seen = poll.detail?.mcpTaskStatus;
    if (seen === undefined || (status !== undefined && TERMINAL_TASK_STATUSES.has(status))) continue;
    if (waitingSince !== undefined && seen !== 'input_required') {
      inputRequiredNs += poll.endNs - waitingSince;
      waitingSince = undefined;
    } else if (waitingSince === undefined && seen === 'input_required') waitingSince = poll.endNs;
    status = seen;
  }
  const failedAs = status === 'failed' || status === 'cancelled' ? taskErrorType(status) : null;
  return {
    status,
    lastSeenNs,
    inputRequiredMs: Number(inputRequiredNs) / 1e6,
    errorType: failedAs ?? (toolError ? 'tool_error' : null),
  };
};
