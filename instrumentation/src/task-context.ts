import { context, propagation, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_MCPSCOPE_TASK_ID, BAGGAGE_MCPSCOPE_TASK_ID } from './conventions.js';

/**
 * Runs `fn` as part of the agent task `taskId`: the id travels in W3C baggage, so every span of the
 * task carries `mcpscope.task.id`, in this process and in every MCP server it calls.
 */
export const withTask = <T>(taskId: string, fn: () => T): T => {
  const current = propagation.getBaggage(context.active()) ?? propagation.createBaggage();
  const baggage = current.setEntry(BAGGAGE_MCPSCOPE_TASK_ID, { value: taskId });
  return context.with(propagation.setBaggage(context.active(), baggage), fn);
};

/** The task id of the active context, if a task is running. */
export const currentTaskId = (ctx: Context = context.active()): string | undefined =>
  propagation.getBaggage(ctx)?.getEntry(BAGGAGE_MCPSCOPE_TASK_ID)?.value;

export const TASK_ID_PROCESSOR = Symbol.for('mcpscope.task-id-processor');

/**
 * Copies the task id from baggage onto every span as it starts, so spans that mcpscope does not
 * create (LLM calls, HTTP, databases) are attributed to their task too.
 */
export class TaskIdSpanProcessor implements SpanProcessor {
  /** Lets the one import recognise a task-id processor from any copy of this package. */
  readonly [TASK_ID_PROCESSOR] = true;
  onStart(span: Span, parentContext: Context): void {
    const taskId = currentTaskId(parentContext);
    if (taskId !== undefined) span.setAttribute(ATTR_MCPSCOPE_TASK_ID, taskId);
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
