import { context, diag, type Context } from '@opentelemetry/api';
import type { CheckpointKind, CheckpointOutcome } from '../conventions.js';
import type { McpMessage } from '../request-attributes.js';
import { insideAppCheckpoint, outcomeOfAnswer } from './api.js';
import { emitDecide, emitPropose, type CheckpointTicket } from './steps.js';
import { fingerprintArguments } from './telemetry-access.js';
import { toolCallOf } from './tool-call-context.js';

/**
 * Checkpoints the protocol already expresses: an `elicitation/create` a server sends while it handles a
 * tool call (a task's too), and the elicitations of a 2026-07-28 `input_required` round, answered when
 * the caller re-sends the call.
 */

const ELICITATION = 'elicitation/create';
/** `_meta` key of the tasks extension naming the task a request belongs to. */
const RELATED_TASK_META = 'io.modelcontextprotocol/related-task';

const taskIdOf = (relatedTask: unknown): string | undefined => {
  const taskId = (relatedTask as { taskId?: unknown } | null | undefined)?.taskId;
  return typeof taskId === 'string' ? taskId : undefined;
};

const modeOf = (params: Record<string, unknown> | undefined): 'form' | 'url' =>
  params?.mode === 'url' ? 'url' : 'form';

/** An elicitation answer's outcome; anything but accept, decline or cancel is not an answer. */
const outcomeOfElicitResult = (result: unknown): CheckpointOutcome | undefined => {
  const action = (result as { action?: unknown } | null | undefined)?.action;
  return action === 'accept' || action === 'decline' || action === 'cancel'
    ? outcomeOfAnswer(result)
    : undefined;
};

/**
 * Wraps the sending of a request: an `elicitation/create` (sent for a task: the task is in
 * `input_required` until it is answered) becomes a checkpoint of the tool call it is
 * sent from (propose now, decide on the answer; an error or timeout is `expired`). Other requests, and
 * elicitations `checkpoint()` wraps (that checkpoint is this one), pass through.
 */
export const traceElicitation = <T>(
  request: McpMessage,
  relatedTask: unknown,
  send: () => Promise<T>,
): Promise<T> => {
  if (request.method !== ELICITATION) return send();
  const ctx = context.active();
  let ticket: CheckpointTicket;
  try {
    if (insideAppCheckpoint(ctx)) return send();
    const call = toolCallOf(ctx);
    const meta = request.params?._meta;
    const taskId = taskIdOf(relatedTask) ?? taskIdOf(meta?.[RELATED_TASK_META]);
    const kind: CheckpointKind = taskId !== undefined ? 'task_input_required' : 'elicitation';
    ticket = emitPropose(
      {
        kind,
        mode: modeOf(request.params),
        ...(taskId !== undefined && { mcpTaskId: taskId }),
        ...(call?.tool !== undefined && { tool: call.tool }),
        ...(call?.argumentsFingerprint !== undefined && { argumentsFingerprint: call.argumentsFingerprint }),
      },
      ctx,
    );
  } catch (error) {
    diag.error('mcpscope: could not record an elicitation checkpoint', error);
    return send();
  }
  return send().then(
    (result) => {
      emitDecide(ticket, { outcome: outcomeOfElicitResult(result) ?? 'expired' }, ctx);
      return result;
    },
    (error: unknown) => {
      emitDecide(ticket, { outcome: 'expired' }, ctx);
      throw error;
    },
  );
};

/** The checkpoints an outgoing call's `input_required` rounds opened, by input request key. */
const openRounds = new WeakMap<object, Map<string, CheckpointTicket>>();

/**
 * Caller side: the peer answered `call` (the message as sent) with `input_required`. Each elicitation it
 * asks for is a checkpoint of the call, proposed in the call's context.
 */
export const proposeRoundCheckpoints = (
  call: object,
  message: McpMessage,
  inputRequests: unknown,
  callContext: Context,
): void => {
  if (inputRequests === null || typeof inputRequests !== 'object') return;
  const tool = typeof message.params?.name === 'string' ? message.params.name : undefined;
  let fingerprint: string | undefined;
  for (const [key, entry] of Object.entries(inputRequests as Record<string, unknown>)) {
    const request = entry as { method?: unknown; params?: Record<string, unknown> } | null;
    if (request?.method !== ELICITATION) continue;
    fingerprint ??=
      message.method === 'tools/call' ? fingerprintArguments(message.params?.arguments) : undefined;
    const ticket = emitPropose(
      {
        kind: 'input_required',
        mode: modeOf(request.params),
        ...(tool !== undefined && { tool }),
        ...(fingerprint !== undefined && { argumentsFingerprint: fingerprint }),
      },
      callContext,
    );
    let open = openRounds.get(call);
    if (!open) openRounds.set(call, (open = new Map()));
    open.set(key, ticket);
  }
};

/**
 * Caller side: `call` is re-sent with `inputResponses`. Each answered elicitation is decided; one left
 * unanswered is `expired`. Returns the id of the last decided checkpoint, for the call's span and `_meta`.
 */
export const decideRoundCheckpoints = (
  call: object,
  continuation: McpMessage,
  callContext: Context,
): string | undefined => {
  const open = openRounds.get(call);
  if (!open || open.size === 0) return undefined;
  const responses = (continuation.params?.inputResponses ?? {}) as Record<string, unknown>;
  let last: string | undefined;
  for (const [key, ticket] of open) {
    emitDecide(ticket, { outcome: outcomeOfElicitResult(responses[key]) ?? 'expired' }, callContext);
    last = ticket.id;
  }
  open.clear();
  return last;
};
