import { randomUUID } from 'node:crypto';
import {
  context,
  diag,
  SpanKind,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type SpanContext,
} from '@opentelemetry/api';
import {
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_CHECKPOINT_EXPIRES_AT,
  ATTR_MCPSCOPE_CHECKPOINT_ID,
  ATTR_MCPSCOPE_CHECKPOINT_KIND,
  ATTR_MCPSCOPE_CHECKPOINT_MODE,
  ATTR_MCPSCOPE_CHECKPOINT_OUTCOME,
  ATTR_MCPSCOPE_CHECKPOINT_REQUESTED_AT,
  ATTR_MCPSCOPE_CHECKPOINT_REVIEWER,
  ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION,
  ATTR_MCPSCOPE_CHECKPOINT_STEP,
  ATTR_MCPSCOPE_MCP_TASK_ID,
  ATTR_MCPSCOPE_TASK_ID,
  CHECKPOINT_DECIDE_SPAN,
  CHECKPOINT_PROPOSE_SPAN,
  type CheckpointKind,
  type CheckpointOutcome,
} from '../conventions.js';
import { currentTaskId } from '../task-context.js';
import { checkpointTracer, redactText } from './telemetry-access.js';
import { toolCallOf } from './tool-call-context.js';

/**
 * A checkpoint as one process knows it: enough to emit its decide step anywhere (a JSON-serializable
 * ticket), plus the proposal's span context when the proposal was made here.
 */
export interface CheckpointTicket {
  id: string;
  kind: CheckpointKind;
  tool?: string;
  argumentsFingerprint?: string;
  stateVersion?: string;
  /** Epoch ms of the proposal. */
  requestedAt: number;
  expiresAt?: number;
  mode?: 'form' | 'url';
  /** The MCP task (tasks extension) that waits for this answer. */
  mcpTaskId?: string;
  /** W3C `traceparent` of the propose span, so a decide in another process or trace links to it. */
  traceparent?: string;
}

export interface ProposalInput {
  id?: string;
  kind: CheckpointKind;
  tool?: string;
  argumentsFingerprint?: string;
  stateVersion?: string;
  expiresAt?: number;
  mode?: 'form' | 'url';
  mcpTaskId?: string;
}

export interface DecisionInput {
  outcome: CheckpointOutcome;
  reviewer?: string;
  /** The state version seen when deciding, when it differs from the proposal's. */
  stateVersion?: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const toTraceparent = ({ traceId, spanId, traceFlags }: SpanContext): string =>
  `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;

const fromTraceparent = (traceparent: string | undefined): SpanContext | undefined => {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (!match) return undefined;
  return {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: Number.parseInt(match[3] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
};

const spanName = (prefix: string, tool: string | undefined) => (tool ? `${prefix} ${tool}` : prefix);

const commonAttributes = (ticket: CheckpointTicket, ctx: Context): Attributes => {
  const attributes: Attributes = {
    [ATTR_MCPSCOPE_CHECKPOINT_ID]: ticket.id,
    [ATTR_MCPSCOPE_CHECKPOINT_KIND]: ticket.kind,
  };
  if (ticket.tool !== undefined) attributes[ATTR_GEN_AI_TOOL_NAME] = ticket.tool;
  if (ticket.argumentsFingerprint !== undefined)
    attributes[ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT] = ticket.argumentsFingerprint;
  if (ticket.stateVersion !== undefined)
    attributes[ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION] = ticket.stateVersion;
  if (ticket.mcpTaskId !== undefined) attributes[ATTR_MCPSCOPE_MCP_TASK_ID] = ticket.mcpTaskId;
  const taskId = currentTaskId(ctx);
  if (taskId !== undefined) attributes[ATTR_MCPSCOPE_TASK_ID] = taskId;
  return attributes;
};

/** A new checkpoint id: unique, and no secret (the app may pass its own, e.g. a queue item id). */
export const newCheckpointId = (): string => `cp-${randomUUID()}`;

/** Emits the propose step (a span ended at once, so a pending proposal is exported) and returns its ticket. */
export const emitPropose = (input: ProposalInput, ctx: Context = context.active()): CheckpointTicket => {
  const ticket: CheckpointTicket = {
    id: input.id ?? newCheckpointId(),
    kind: input.kind,
    requestedAt: Date.now(),
    ...(input.tool !== undefined && { tool: input.tool }),
    ...(input.argumentsFingerprint !== undefined && { argumentsFingerprint: input.argumentsFingerprint }),
    ...(input.stateVersion !== undefined && { stateVersion: input.stateVersion }),
    ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
    ...(input.mode !== undefined && { mode: input.mode }),
    ...(input.mcpTaskId !== undefined && { mcpTaskId: input.mcpTaskId }),
  };
  try {
    const attributes = commonAttributes(ticket, ctx);
    attributes[ATTR_MCPSCOPE_CHECKPOINT_STEP] = 'propose';
    if (ticket.expiresAt !== undefined) attributes[ATTR_MCPSCOPE_CHECKPOINT_EXPIRES_AT] = ticket.expiresAt;
    if (ticket.mode !== undefined) attributes[ATTR_MCPSCOPE_CHECKPOINT_MODE] = ticket.mode;
    const span = checkpointTracer().startSpan(
      spanName(CHECKPOINT_PROPOSE_SPAN, ticket.tool),
      { kind: SpanKind.INTERNAL, attributes, startTime: ticket.requestedAt },
      ctx,
    );
    if (span.isRecording()) ticket.traceparent = toTraceparent(span.spanContext());
    span.end();
  } catch (error) {
    diag.error('mcpscope: could not record a checkpoint proposal', error);
  }
  return ticket;
};

/**
 * Emits the decide step, linked to the proposal. Inside a tool call (an elicitation during the call,
 * an answer to its round), the call's span names this checkpoint: the last decided one wins.
 */
export const emitDecide = (
  ticket: CheckpointTicket,
  decision: DecisionInput,
  ctx: Context = context.active(),
): void => {
  try {
    const attributes = commonAttributes(
      decision.stateVersion === undefined ? ticket : { ...ticket, stateVersion: decision.stateVersion },
      ctx,
    );
    attributes[ATTR_MCPSCOPE_CHECKPOINT_STEP] = 'decide';
    attributes[ATTR_MCPSCOPE_CHECKPOINT_OUTCOME] = decision.outcome;
    attributes[ATTR_MCPSCOPE_CHECKPOINT_REQUESTED_AT] = ticket.requestedAt;
    if (ticket.mode !== undefined) attributes[ATTR_MCPSCOPE_CHECKPOINT_MODE] = ticket.mode;
    if (decision.reviewer !== undefined && decision.reviewer !== '')
      attributes[ATTR_MCPSCOPE_CHECKPOINT_REVIEWER] = redactText(decision.reviewer);
    const proposal = fromTraceparent(ticket.traceparent);
    const links: Link[] = proposal ? [{ context: proposal }] : [];
    checkpointTracer()
      .startSpan(
        spanName(CHECKPOINT_DECIDE_SPAN, ticket.tool),
        { kind: SpanKind.INTERNAL, attributes, links },
        ctx,
      )
      .end();
    // Only the call's own action: a tool that approves another tool's plan does not execute it.
    const call = toolCallOf(ctx);
    if (call && (ticket.tool === undefined || ticket.tool === call.tool))
      call.span.setAttribute(ATTR_MCPSCOPE_CHECKPOINT_ID, ticket.id);
  } catch (error) {
    diag.error('mcpscope: could not record a checkpoint decision', error);
  }
};
