import { createContextKey, diag, type Attributes, type Context, type Span } from '@opentelemetry/api';
import {
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_CHECKPOINT_ID,
  ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION,
} from '../conventions.js';

/** The `tools/call` a handler is running for: checkpoints inside it name it, and it names them. */
export interface ToolCallInProgress {
  span: Span;
  tool?: string;
  argumentsFingerprint?: string;
}

const TOOL_CALL = createContextKey('mcpscope.checkpoint.tool_call');

/** The context a `tools/call` handler runs in, marked with its call (server side). */
export const markToolCall = (ctx: Context, span: Span, attributes: Attributes): Context => {
  const tool = attributes[ATTR_GEN_AI_TOOL_NAME];
  const fingerprint = attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT];
  const call: ToolCallInProgress = {
    span,
    ...(typeof tool === 'string' && { tool }),
    ...(typeof fingerprint === 'string' && { argumentsFingerprint: fingerprint }),
  };
  return ctx.setValue(TOOL_CALL, call);
};

export const toolCallOf = (ctx: Context): ToolCallInProgress | undefined =>
  ctx.getValue(TOOL_CALL) as ToolCallInProgress | undefined;

/** Records, on the tool call being handled, the checkpoint it executes (approved outside the call). */
export const recordExecutedCheckpoint = (id: string, ctx: Context): boolean => {
  const call = toolCallOf(ctx);
  if (!call) {
    diag.debug('mcpscope: recordExecution outside a tool call; nothing recorded');
    return false;
  }
  call.span.setAttribute(ATTR_MCPSCOPE_CHECKPOINT_ID, id);
  return true;
};

/**
 * Records, on the tool call being handled, the version of the state it executes against (`lineage:serial`,
 * an ETag): compared with the version its checkpoint was proposed against, it tells a stale plan applied.
 */
export const recordStateVersion = (stateVersion: string, ctx: Context): boolean => {
  const call = toolCallOf(ctx);
  if (!call) {
    diag.debug('mcpscope: recordStateVersion outside a tool call; nothing recorded');
    return false;
  }
  call.span.setAttribute(ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION, stateVersion);
  return true;
};
