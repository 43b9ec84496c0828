import type { Attributes, Context, Link, Span, SpanContext } from '@opentelemetry/api';
import {
  ATTR_MCPSCOPE_CONTINUATION,
  ATTR_MCPSCOPE_INPUT_REQUIRED,
  ATTR_MCPSCOPE_INPUT_REQUIRED_KINDS,
  ATTR_MCPSCOPE_INPUT_REQUIRED_ROUNDS,
  ATTR_MCPSCOPE_INPUT_REQUIRED_WAIT_MS,
  ATTR_MCPSCOPE_MCP_TASK_ID,
  ATTR_MCPSCOPE_MCP_TASK_STATUS,
  EVENT_MCPSCOPE_INPUT_REQUIRED,
  MCP_TASK_METHODS,
} from './conventions.js';
import type { McpMessage } from './request-attributes.js';

/**
 * Protocol 2026-07-28 makes one logical call out of several messages: a call answered `input_required`
 * is re-sent with the answers (each re-send one round), and a call that became a task is polled with
 * `tasks/get` until it ends. This module keeps those messages on their call.
 */

/** One outgoing call, from its first send to its last round. */
export interface OutgoingCall {
  span: Span;
  spanContext: Context;
  rounds: number;
  kinds: Set<string>;
  /** When the peer last asked for input: the caller is answering until the next round is sent. */
  askedAt: number | undefined;
  waitMs: number;
}

export const newOutgoingCall = (span: Span, spanContext: Context): OutgoingCall => ({
  span,
  spanContext,
  rounds: 0,
  kinds: new Set(),
  askedAt: undefined,
  waitMs: 0,
});

const KIND_BY_METHOD: Record<string, string> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** What an `inputRequests` map asks for: `elicitation`, `sampling`, `roots` (or the method), sorted. */
export const inputRequestKinds = (inputRequests: unknown): string[] => {
  if (inputRequests === null || typeof inputRequests !== 'object') return [];
  const kinds = new Set<string>();
  for (const entry of Object.values(inputRequests as Record<string, unknown>)) {
    const method = (entry as { method?: unknown } | null)?.method;
    if (typeof method === 'string') kinds.add(KIND_BY_METHOD[method] ?? method);
  }
  return [...kinds].sort();
};

/** A result that asks for input instead of completing (`resultType: input_required`). */
export const isInputRequiredResult = (result: unknown): result is { inputRequests?: unknown } =>
  (result as { resultType?: unknown } | null)?.resultType === 'input_required';

/** Whether a request re-sends a call with answers to its `input_required` round. */
export const isContinuationRequest = (message: McpMessage): boolean => {
  const params = message.params;
  return params !== undefined && (params.inputResponses !== undefined || params.requestState !== undefined);
};

/** The peer asked for input: one more round of the call, with what was asked. */
export const recordRound = (call: OutgoingCall, inputRequests: unknown, now = Date.now()): void => {
  call.rounds += 1;
  const kinds = inputRequestKinds(inputRequests);
  for (const kind of kinds) call.kinds.add(kind);
  call.askedAt = now;
  call.span.addEvent(EVENT_MCPSCOPE_INPUT_REQUIRED, {
    [ATTR_MCPSCOPE_INPUT_REQUIRED_ROUNDS]: call.rounds,
    [ATTR_MCPSCOPE_INPUT_REQUIRED_KINDS]: kinds,
  });
};

/** The caller answered and re-sends the call: the time it took is the round's wait. */
export const recordAnswer = (call: OutgoingCall, now = Date.now()): void => {
  if (call.askedAt !== undefined) call.waitMs += now - call.askedAt;
  call.askedAt = undefined;
};

/** Round attributes on the call's span, when there were rounds. */
export const addRoundAttributes = (call: OutgoingCall): void => {
  if (call.rounds === 0) return;
  call.span.setAttributes({
    [ATTR_MCPSCOPE_INPUT_REQUIRED_ROUNDS]: call.rounds,
    [ATTR_MCPSCOPE_INPUT_REQUIRED_KINDS]: [...call.kinds].sort(),
    [ATTR_MCPSCOPE_INPUT_REQUIRED_WAIT_MS]: call.waitMs,
  });
};

/** Marks one request's span whose answer asked for input (a round, not an outcome). */
export const markInputRequiredAnswer = (span: Span, result: { inputRequests?: unknown }): void => {
  span.setAttribute(ATTR_MCPSCOPE_INPUT_REQUIRED, true);
  span.setAttribute(ATTR_MCPSCOPE_INPUT_REQUIRED_KINDS, inputRequestKinds(result.inputRequests));
};

export const continuationAttributes = (message: McpMessage, attributes: Attributes): void => {
  if (isContinuationRequest(message)) attributes[ATTR_MCPSCOPE_CONTINUATION] = true;
};

// Tasks extension: a `tools/call` may answer with a task, then `tasks/*` requests poll and steer it.
const TASK_METHODS = new Set<string>(MCP_TASK_METHODS);
export const isTaskMethod = (method: string): boolean => TASK_METHODS.has(method);

interface TaskState {
  taskId: string;
  status?: string;
}

/** The task a result describes: `{ task: {...} }` (created), a task itself (polled) or `resultType: task`. */
export const taskOfResult = (result: unknown): TaskState | undefined => {
  if (result === null || typeof result !== 'object') return undefined;
  const value = result as { task?: unknown; taskId?: unknown; status?: unknown };
  const task = (value.task !== null && typeof value.task === 'object' ? value.task : value) as {
    taskId?: unknown;
    status?: unknown;
  };
  if (typeof task.taskId !== 'string') return undefined;
  return { taskId: task.taskId, ...(typeof task.status === 'string' && { status: task.status }) };
};

export const taskIdOfRequest = (message: McpMessage): string | undefined => {
  const taskId = message.params?.taskId;
  return typeof taskId === 'string' ? taskId : undefined;
};

export const addTaskAttributes = (span: Span, task: TaskState): void => {
  span.setAttribute(ATTR_MCPSCOPE_MCP_TASK_ID, task.taskId);
  if (task.status !== undefined) span.setAttribute(ATTR_MCPSCOPE_MCP_TASK_STATUS, task.status);
};

const MAX_REMEMBERED_TASKS = 1024;

/** The span that created each recent task, so the requests that poll it link to their call. */
export class TaskOrigins {
  private readonly origins = new Map<string, SpanContext>();

  remember(taskId: string, origin: SpanContext): void {
    this.origins.delete(taskId);
    this.origins.set(taskId, origin);
    if (this.origins.size > MAX_REMEMBERED_TASKS) {
      const oldest = this.origins.keys().next().value;
      if (oldest !== undefined) this.origins.delete(oldest);
    }
  }

  linksFor(message: McpMessage): Link[] | undefined {
    const taskId = taskIdOfRequest(message);
    const origin = taskId === undefined ? undefined : this.origins.get(taskId);
    return origin === undefined ? undefined : [{ context: origin }];
  }
}
