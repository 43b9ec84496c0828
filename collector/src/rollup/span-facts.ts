import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_AUTH_OUTCOME,
  ATTR_MCPSCOPE_AUTH_REASON,
  ATTR_MCPSCOPE_AUTH_SIDE,
  ATTR_MCPSCOPE_FEEDBACK_NOTE,
  ATTR_MCPSCOPE_FEEDBACK_VERDICT,
  ATTR_MCPSCOPE_TASK_ID,
  TOKEN_USAGE_INPUT_ALIASES,
  TOKEN_USAGE_OUTPUT_ALIASES,
} from '@mcpscope/instrumentation/conventions';
import type { AttributeValue, Attributes, SpanKind, SpanRecord } from '../model/span.js';

/** The few things rollups need from a span, extracted once at ingest and stored as columns. */
export interface SpanFacts {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  kind: SpanKind;
  startNs: bigint;
  endNs: bigint;
  serviceName: string;
  statusError: boolean;
  method: string | null;
  tool: string | null;
  taskId: string | null;
  fingerprint: string | null;
  errorType: string | null;
  arguments: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  authOutcome: string | null;
  authReason: string | null;
  authSide: string | null;
  feedbackVerdict: string | null;
  feedbackNote: string | null;
}

export const TOOLS_CALL_METHOD = 'tools/call';
export const FEEDBACK_VERDICTS = ['correct', 'incorrect'] as const;
export type FeedbackVerdict = (typeof FEEDBACK_VERDICTS)[number];

const text = (value: AttributeValue | undefined): string | null => {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
};

const tokenCount = (attributes: Attributes, aliases: readonly string[]): number | null => {
  for (const name of aliases) {
    const value = attributes[name];
    const count = typeof value === 'string' ? Number(value) : value;
    if (typeof count === 'number' && Number.isFinite(count) && count >= 0) return Math.trunc(count);
  }
  return null;
};

const verdict = (value: AttributeValue | undefined): FeedbackVerdict | null =>
  FEEDBACK_VERDICTS.find((known) => known === value) ?? null;

export const spanFacts = (span: SpanRecord): SpanFacts => {
  const attributes = span.attributes;
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    kind: span.kind,
    startNs: span.startTimeUnixNano,
    endNs: span.endTimeUnixNano,
    serviceName: span.serviceName,
    statusError: span.statusCode === 'error',
    method: text(attributes[ATTR_MCP_METHOD_NAME]),
    tool: text(attributes[ATTR_GEN_AI_TOOL_NAME]),
    taskId: text(attributes[ATTR_MCPSCOPE_TASK_ID]),
    fingerprint: text(attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]),
    errorType: text(attributes[ATTR_ERROR_TYPE]),
    arguments: text(attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]),
    inputTokens: tokenCount(attributes, TOKEN_USAGE_INPUT_ALIASES),
    outputTokens: tokenCount(attributes, TOKEN_USAGE_OUTPUT_ALIASES),
    authOutcome: text(attributes[ATTR_MCPSCOPE_AUTH_OUTCOME]),
    authReason: text(attributes[ATTR_MCPSCOPE_AUTH_REASON]),
    authSide: text(attributes[ATTR_MCPSCOPE_AUTH_SIDE]),
    feedbackVerdict: verdict(attributes[ATTR_MCPSCOPE_FEEDBACK_VERDICT]),
    feedbackNote: text(attributes[ATTR_MCPSCOPE_FEEDBACK_NOTE]),
  };
};

/** A span failed when its status is error or it names an error type (tool errors included). */
export const spanFailed = (facts: Pick<SpanFacts, 'statusError' | 'errorType'>): boolean =>
  facts.statusError || facts.errorType !== null;

export const spanKey = (traceId: string, spanId: string): string => `${traceId}:${spanId}`;
