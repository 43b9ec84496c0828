import { context, createContextKey, diag, type Context } from '@opentelemetry/api';
import { CHECKPOINT_OUTCOMES, type CheckpointKind, type CheckpointOutcome } from '../conventions.js';
import { offerForExecution, withExecution } from './execution.js';
import { emitDecide, emitPropose, type CheckpointTicket } from './steps.js';
import { fingerprintArguments } from './telemetry-access.js';
import {
  recordExecutedCheckpoint,
  recordStateVersion as recordOnToolCall,
  toolCallOf,
} from './tool-call-context.js';

/** The action awaiting approval. Its arguments are fingerprinted, never recorded. */
export interface CheckpointAction {
  /** Your own id (a queue item, an approval request); a unique one is generated otherwise. */
  id?: string;
  /** The tool whose call awaits approval; inside a tool call, that call's tool by default. */
  tool?: string;
  /** The arguments the action will run with; inside a tool call, that call's arguments by default. */
  arguments?: unknown;
  /** The version of the state the action was planned against: `lineage:serial`, an ETag. */
  stateVersion?: string;
  /** When the proposal lapses. */
  expiresAt?: number | Date;
  /** How approval is asked for; `app` unless the approval is a protocol exchange you wrap. */
  kind?: CheckpointKind;
}

export interface CheckpointDecision {
  outcome: CheckpointOutcome;
  /** Who decided; recorded redacted like every string, so never put a secret here. */
  reviewer?: string;
  /** The state version seen when deciding. */
  stateVersion?: string;
}

export interface CheckpointOptions<T> {
  /** How your approval step's answer reads as an outcome, when it is none of the shapes understood. */
  outcome?: (answer: T) => CheckpointOutcome;
  /** Who decided, from the answer. */
  reviewer?: (answer: T) => string | undefined;
}

export type { CheckpointTicket };

const OUTCOMES = new Set<string>(CHECKPOINT_OUTCOMES);
const isOutcome = (value: unknown): value is CheckpointOutcome =>
  typeof value === 'string' && OUTCOMES.has(value);
const ELICITATION_OUTCOMES: Record<string, CheckpointOutcome> = {
  accept: 'approved',
  decline: 'rejected',
  cancel: 'cancelled',
};

/**
 * The outcome an approval step's answer stands for: `true`/`false`, an outcome name, an object with
 * `outcome`, `approved` (boolean) or an elicitation `action` (accept, decline, cancel). Anything else
 * reads as approved when truthy.
 */
export const outcomeOfAnswer = (answer: unknown): CheckpointOutcome => {
  if (typeof answer === 'boolean') return answer ? 'approved' : 'rejected';
  if (isOutcome(answer)) return answer;
  if (answer !== null && typeof answer === 'object') {
    const { outcome, approved, action } = answer as {
      outcome?: unknown;
      approved?: unknown;
      action?: unknown;
    };
    if (isOutcome(outcome)) return outcome;
    if (typeof approved === 'boolean') return approved ? 'approved' : 'rejected';
    if (typeof action === 'string' && ELICITATION_OUTCOMES[action]) return ELICITATION_OUTCOMES[action];
  }
  return answer ? 'approved' : 'rejected';
};

const reviewerOfAnswer = (answer: unknown): string | undefined => {
  const reviewer = (answer as { reviewer?: unknown } | null | undefined)?.reviewer;
  return typeof reviewer === 'string' ? reviewer : undefined;
};

/** Set while `checkpoint()` waits: an elicitation it wraps is that checkpoint, not another one. */
const APP_CHECKPOINT = createContextKey('mcpscope.checkpoint.app');
export const insideAppCheckpoint = (ctx: Context): boolean => ctx.getValue(APP_CHECKPOINT) !== undefined;

const proposalOf = (action: CheckpointAction, ctx: Context) => {
  const call = toolCallOf(ctx);
  const tool = action.tool ?? call?.tool;
  // The enclosing call's arguments are the action's only when it is that call's own tool.
  const argumentsFingerprint =
    action.arguments !== undefined
      ? fingerprintArguments(action.arguments)
      : tool === call?.tool
        ? call?.argumentsFingerprint
        : undefined;
  const expiresAt = action.expiresAt instanceof Date ? action.expiresAt.getTime() : action.expiresAt;
  return {
    kind: action.kind ?? 'app',
    ...(action.id !== undefined && { id: action.id }),
    ...(tool !== undefined && { tool }),
    ...(argumentsFingerprint !== undefined && { argumentsFingerprint }),
    ...(action.stateVersion !== undefined && { stateVersion: action.stateVersion }),
    ...(expiresAt !== undefined && { expiresAt }),
  };
};

/**
 * Records that an action awaits approval and returns its ticket: plain JSON, to travel with the
 * request (a queue message, a chat approval) to wherever it is decided.
 */
export const proposeCheckpoint = (action: CheckpointAction): CheckpointTicket => {
  const ctx = context.active();
  return emitPropose(proposalOf(action, ctx), ctx);
};

/**
 * Records the decision on a proposed checkpoint, in this process or another, linked to the proposal.
 * Outside a tool call, the next call of the checkpoint's tool in the same agent task executes it,
 * unless `withCheckpoint` says otherwise.
 */
export const decideCheckpoint = (ticket: CheckpointTicket, decision: CheckpointDecision): void => {
  const ctx = context.active();
  emitDecide(ticket, decision, ctx);
  if (!toolCallOf(ctx)) offerForExecution(ticket, ctx);
};

/**
 * One line around an existing approval step: records the proposal, runs `decide` (your approval step,
 * unchanged), records its answer as the decision and returns the answer as it was. An answer that
 * throws is recorded as `expired` and thrown on.
 *
 * `const ok = await checkpoint({ tool: 'apply', arguments, stateVersion }, () => askHuman(plan));`
 */
export const checkpoint = async <T>(
  action: CheckpointAction,
  decide: () => T | Promise<T>,
  options: CheckpointOptions<T> = {},
): Promise<T> => {
  const ctx = context.active();
  const ticket = emitPropose(proposalOf(action, ctx), ctx);
  let answer: T;
  try {
    answer = await context.with(ctx.setValue(APP_CHECKPOINT, ticket), decide);
  } catch (error) {
    decideIn(ctx, ticket, { outcome: 'expired' });
    throw error;
  }
  let decision: CheckpointDecision;
  try {
    const reviewer = options.reviewer ? options.reviewer(answer) : reviewerOfAnswer(answer);
    decision = {
      outcome: options.outcome ? options.outcome(answer) : outcomeOfAnswer(answer),
      ...(reviewer !== undefined && { reviewer }),
    };
  } catch (error) {
    diag.error('mcpscope: a checkpoint outcome or reviewer hook threw; recorded as approved', error);
    decision = { outcome: outcomeOfAnswer(answer) };
  }
  decideIn(ctx, ticket, decision);
  return answer;
};

const decideIn = (ctx: Context, ticket: CheckpointTicket, decision: CheckpointDecision): void =>
  context.with(ctx, () => decideCheckpoint(ticket, decision));

/**
 * Runs `fn` as the execution of a checkpoint decided elsewhere: every `tools/call` it sends names the
 * checkpoint (span and `_meta`), with the state version it executes against when given.
 */
export const withCheckpoint = <T>(
  checkpointOrId: CheckpointTicket | string,
  fn: () => T,
  options: { stateVersion?: string } = {},
): T => {
  const id = typeof checkpointOrId === 'string' ? checkpointOrId : checkpointOrId.id;
  return withExecution(
    { id, ...(options.stateVersion !== undefined && { stateVersion: options.stateVersion }) },
    fn,
  );
};

/**
 * Inside a tool handler: the version of the state this call executes against. Compared with the
 * version the checkpoint was proposed against, it shows a stale plan applied. Returns false outside a
 * tool call.
 */
export const recordStateVersion = (stateVersion: string): boolean =>
  recordOnToolCall(stateVersion, context.active());

/**
 * Inside a tool handler: this call executes `checkpoint` (approved earlier, e.g. by another tool call
 * of the server), against `stateVersion` when given. Returns false outside a tool call.
 */
export const recordExecution = ({
  checkpoint: checkpointOrId,
  stateVersion,
}: {
  checkpoint?: CheckpointTicket | string;
  stateVersion?: string;
}): boolean => {
  const ctx = context.active();
  let recorded = true;
  if (checkpointOrId !== undefined)
    recorded = recordExecutedCheckpoint(
      typeof checkpointOrId === 'string' ? checkpointOrId : checkpointOrId.id,
      ctx,
    );
  if (stateVersion !== undefined) recorded = recordOnToolCall(stateVersion, ctx) && recorded;
  return recorded;
};
