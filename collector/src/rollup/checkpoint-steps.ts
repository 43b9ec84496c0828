import { ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT } from '@mcpscope/instrumentation/conventions';
import type { AttributeValue, SpanKind, SpanRecord } from '../model/span.js';
import {
  ATTR_CHECKPOINT_ARGUMENTS_FINGERPRINT,
  ATTR_CHECKPOINT_EXPIRES_AT,
  ATTR_CHECKPOINT_ID,
  ATTR_CHECKPOINT_KIND,
  ATTR_CHECKPOINT_MODE,
  ATTR_CHECKPOINT_OUTCOME,
  ATTR_CHECKPOINT_REQUESTED_AT,
  ATTR_CHECKPOINT_REVIEWER,
  ATTR_CHECKPOINT_STATE_VERSION,
  ATTR_CHECKPOINT_STEP,
  ATTR_TOOL_DESTRUCTIVE,
  ATTR_TOOL_IDEMPOTENT,
  ATTR_TOOL_READ_ONLY,
  CHECKPOINT_OUTCOMES,
  CHECKPOINT_STEPS,
  type CheckpointOutcome,
} from './checkpoint-conventions.js';
import { spanErrorType } from './failed-call.js';
import { TOOLS_CALL_METHOD, type SpanFacts } from './span-facts.js';

/** `propose` and `decide` are spans of their own; `execute` is what a `tools/call` span says. */
export type StepName = 'propose' | 'decide' | 'execute';

/**
 * What a span says of a human checkpoint or of a write, extracted once at ingest and stored as one
 * row: a proposal, a decision, or a tool call that claims a checkpoint or is a write.
 */
export interface CheckpointStep {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  step: StepName;
  checkpointId: string | null;
  kind: string | null;
  tool: string | null;
  service: string;
  spanKind: SpanKind;
  startNs: bigint;
  endNs: bigint;
  outcome: CheckpointOutcome | null;
  reviewer: string | null;
  requestedAtMs: number | null;
  expiresAtMs: number | null;
  mode: string | null;
  /** The checkpoint's fingerprint on propose and decide; the executed arguments' on an execution. */
  argumentsFingerprint: string | null;
  stateVersion: string | null;
  readOnly: boolean | null;
  destructive: boolean | null;
  idempotent: boolean | null;
  /** The span's error type when it failed (see `failed-call.ts`). */
  errorType: string | null;
}

const text = (value: AttributeValue | undefined): string | null => {
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
};

/** Epoch milliseconds, as a number or as the decimal string int64 values may arrive as. */
const epochMs = (value: AttributeValue | undefined): number | null => {
  const ms = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? Math.trunc(ms) : null;
};

const flag = (value: AttributeValue | undefined): boolean | null => {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return null;
};

const stepName = (value: AttributeValue | undefined): 'propose' | 'decide' | null =>
  CHECKPOINT_STEPS.find((step) => step === value) ?? null;

const outcomeOf = (value: AttributeValue | undefined): CheckpointOutcome | null =>
  CHECKPOINT_OUTCOMES.find((outcome) => outcome === value) ?? null;

/** The checkpoint row a span makes, or null for a span that says nothing of checkpoints or writes. */
export const checkpointStepOf = (span: SpanRecord, facts: SpanFacts): CheckpointStep | null => {
  const attributes = span.attributes;
  const checkpointId = text(attributes[ATTR_CHECKPOINT_ID]);
  const readOnly = flag(attributes[ATTR_TOOL_READ_ONLY]);
  const declared = stepName(attributes[ATTR_CHECKPOINT_STEP]);
  const isCall = facts.method === TOOLS_CALL_METHOD && (span.kind === 'client' || span.kind === 'server');
  let step: StepName;
  if (declared !== null && checkpointId !== null && !isCall) step = declared;
  else if (isCall && (checkpointId !== null || readOnly === false)) step = 'execute';
  else return null;
  const execute = step === 'execute';
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    step,
    checkpointId,
    kind: text(attributes[ATTR_CHECKPOINT_KIND]),
    tool: facts.tool,
    service: span.serviceName,
    spanKind: span.kind,
    startNs: span.startTimeUnixNano,
    endNs: span.endTimeUnixNano,
    outcome: step === 'decide' ? outcomeOf(attributes[ATTR_CHECKPOINT_OUTCOME]) : null,
    reviewer: text(attributes[ATTR_CHECKPOINT_REVIEWER]),
    requestedAtMs: epochMs(attributes[ATTR_CHECKPOINT_REQUESTED_AT]),
    expiresAtMs: epochMs(attributes[ATTR_CHECKPOINT_EXPIRES_AT]),
    mode: text(attributes[ATTR_CHECKPOINT_MODE]),
    // Only the instrumentation's HMAC compares with the checkpoint's: never a hash of stored arguments.
    argumentsFingerprint: text(
      attributes[execute ? ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT : ATTR_CHECKPOINT_ARGUMENTS_FINGERPRINT],
    ),
    stateVersion: text(attributes[ATTR_CHECKPOINT_STATE_VERSION]),
    readOnly,
    destructive: flag(attributes[ATTR_TOOL_DESTRUCTIVE]),
    idempotent: flag(attributes[ATTR_TOOL_IDEMPOTENT]),
    errorType: spanErrorType(facts),
  };
};
