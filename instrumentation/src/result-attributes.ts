import { SpanStatusCode, type Span } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_MCPSCOPE_RESULT_CONTENT_TYPES,
  ATTR_MCPSCOPE_RESULT_SIZE,
  ERROR_TYPE_TOOL_ERROR,
  MCP_METHOD_TOOLS_CALL,
} from './conventions.js';
import {
  addTaskAttributes,
  isInputRequiredResult,
  isTaskMethod,
  markInputRequiredAnswer,
  taskOfResult,
} from './protocol-rounds.js';

const RESULT_TEXT_FIELDS = ['text', 'data', 'blob'] as const;

/** Size in characters of what a tool result carries, and its content types; never the content itself. */
const recordToolResult = (span: Span, result: { content?: unknown }): void => {
  if (!Array.isArray(result.content)) return;
  let size = 0;
  const types: string[] = [];
  for (const item of result.content as Array<Record<string, unknown>>) {
    if (item === null || typeof item !== 'object') continue;
    if (typeof item.type === 'string' && !types.includes(item.type)) types.push(item.type);
    for (const field of RESULT_TEXT_FIELDS) {
      const value = item[field];
      if (typeof value === 'string') size += value.length;
    }
    const resource = item.resource as Record<string, unknown> | undefined;
    if (resource && typeof resource.text === 'string') size += resource.text.length;
    if (resource && typeof resource.blob === 'string') size += resource.blob.length;
  }
  span.setAttribute(ATTR_MCPSCOPE_RESULT_SIZE, size);
  span.setAttribute(ATTR_MCPSCOPE_RESULT_CONTENT_TYPES, types.length > 1 ? types.sort() : types);
};

/**
 * What a request's result tells, on its span: a round that asks for input (neither a result nor a
 * failure of the call), a task created or polled, a tool result's size and types and whether it is a
 * tool error. Never the result's content. `onTaskCreated` hears of a task a `tools/call` created.
 */
export const recordResult = (
  span: Span,
  method: string,
  result: unknown,
  onTaskCreated: (taskId: string) => void,
): void => {
  const value = (result ?? {}) as { isError?: unknown; content?: unknown };
  if (isInputRequiredResult(value)) {
    markInputRequiredAnswer(span, value);
    return;
  }
  const task = method === MCP_METHOD_TOOLS_CALL || isTaskMethod(method) ? taskOfResult(value) : undefined;
  if (task !== undefined) {
    addTaskAttributes(span, task);
    if (method === MCP_METHOD_TOOLS_CALL) onTaskCreated(task.taskId);
    if (method === MCP_METHOD_TOOLS_CALL && value.content === undefined) return;
  }
  // A task's result is its tool's result: a tool error there is the call's (`tasks/result`).
  if (method !== MCP_METHOD_TOOLS_CALL && method !== 'tasks/result') return;
  if (method === MCP_METHOD_TOOLS_CALL) recordToolResult(span, value);
  if (value.isError === true) {
    // The result text is the tool's business and may hold anything: it never becomes the status.
    span.setAttribute(ATTR_ERROR_TYPE, ERROR_TYPE_TOOL_ERROR);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
};
