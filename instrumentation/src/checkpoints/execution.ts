import { context, createContextKey, type Attributes, type Context } from '@opentelemetry/api';
import {
  ATTR_MCPSCOPE_CHECKPOINT_ID,
  ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION,
  META_MCPSCOPE_CHECKPOINT,
} from '../conventions.js';
import type { McpMessage } from '../request-attributes.js';
import { currentTaskId } from '../task-context.js';
import type { CheckpointTicket } from './steps.js';

/**
 * The execute step: the `tools/call` that performs a decided action names its checkpoint, on its span
 * and in `params._meta["io.mcpscope/checkpoint"]` so the server's span names it too.
 */
export interface Execution {
  id: string;
  /** The state version the caller executes against, when it knows it. */
  stateVersion?: string;
}

const EXECUTING = createContextKey('mcpscope.checkpoint.executing');

/** Runs `fn` so that every `tools/call` it sends executes the checkpoint `execution.id`. */
export const withExecution = <T>(execution: Execution, fn: () => T): T =>
  context.with(context.active().setValue(EXECUTING, execution), fn);

/**
 * Decided checkpoints of `checkpoint()` made outside any tool call, waiting for the call that
 * executes them: the next `tools/call` of that tool, in the same agent task, claims the newest one.
 * This is what makes one line around an approval step enough.
 */
const CLAIM_WINDOW_MS = 60 * 60 * 1000;
const MAX_UNCLAIMED = 256;
interface Unclaimed {
  ticket: CheckpointTicket;
  taskId: string | undefined;
  decidedAt: number;
}
const unclaimed: Unclaimed[] = [];

export const offerForExecution = (ticket: CheckpointTicket, ctx: Context): void => {
  if (ticket.tool === undefined) return;
  unclaimed.push({ ticket, taskId: currentTaskId(ctx), decidedAt: Date.now() });
  if (unclaimed.length > MAX_UNCLAIMED) unclaimed.shift();
};

const claim = (tool: string, ctx: Context, now = Date.now()): Execution | undefined => {
  const taskId = currentTaskId(ctx);
  for (let index = unclaimed.length - 1; index >= 0; index--) {
    const candidate = unclaimed[index] as Unclaimed;
    if (now - candidate.decidedAt > CLAIM_WINDOW_MS) {
      unclaimed.splice(0, index + 1);
      return undefined;
    }
    if (candidate.ticket.tool === tool && candidate.taskId === taskId) {
      unclaimed.splice(index, 1);
      return { id: candidate.ticket.id };
    }
  }
  return undefined;
};

/** The checkpoint a `_meta` names: a string id, or an object with an `id`. */
export const checkpointIdOfMeta = (meta: unknown): string | undefined => {
  if (meta === null || typeof meta !== 'object') return undefined;
  const value = (meta as Record<string, unknown>)[META_MCPSCOPE_CHECKPOINT];
  if (typeof value === 'string' && value !== '') return value;
  const id = (value as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
};

/**
 * Caller side of a `tools/call`: the checkpoint it executes (named in its `_meta` by the app, set by
 * `withCheckpoint`, or claimed), on its start attributes. Returns the id to put in the outgoing `_meta`.
 */
export const addCallerExecution = (
  attributes: Attributes,
  message: McpMessage,
  tool: string | undefined,
  ctx: Context,
): string | undefined => {
  const named = checkpointIdOfMeta(message.params?._meta);
  const execution: Execution | undefined = named
    ? { id: named }
    : ((ctx.getValue(EXECUTING) as Execution | undefined) ??
      (tool === undefined || unclaimed.length === 0 ? undefined : claim(tool, ctx)));
  if (!execution) return undefined;
  attributes[ATTR_MCPSCOPE_CHECKPOINT_ID] = execution.id;
  if (execution.stateVersion !== undefined)
    attributes[ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION] = execution.stateVersion;
  return named === undefined ? execution.id : undefined;
};

/** Receiver side of a `tools/call`: the checkpoint its caller says it executes. */
export const addReceiverExecution = (attributes: Attributes, message: McpMessage): void => {
  const id = checkpointIdOfMeta(message.params?._meta);
  if (id !== undefined) attributes[ATTR_MCPSCOPE_CHECKPOINT_ID] = id;
};

/** The outgoing message (already a copy with its own `_meta`) names the checkpoint it executes. */
export const stampCheckpointMeta = (outgoing: McpMessage, id: string): void => {
  const meta = outgoing.params?._meta as Record<string, unknown> | undefined;
  if (meta) meta[META_MCPSCOPE_CHECKPOINT] = id;
};
