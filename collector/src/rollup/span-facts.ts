import { createHash } from 'node:crypto';
import { canonicalJson } from '@mcpscope/instrumentation/fingerprint';
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
  MCP_METHOD_TOOLS_CALL,
  TOKEN_USAGE_INPUT_ALIASES,
  TOKEN_USAGE_OUTPUT_ALIASES,
} from '@mcpscope/instrumentation/conventions';
import type { AttributeValue, Attributes, SpanKind, SpanRecord } from '../model/span.js';
import { callDetailOf, type CallDetail } from './call-rounds.js';
import { spanTaskHint } from './task-grouping.js';
import { FEEDBACK_VERDICTS, type FeedbackVerdict } from './task-outcome.js';

/** The few things rollups need from a span, extracted once at ingest and stored as columns. */
export interface SpanFacts {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  kind: SpanKind;
  startNs: bigint;
  endNs: bigint;
  serviceName: string;
  /** The instrumentation scope that recorded the span: two producers' records of one LLM call differ in it. */
  scopeName: string;
  statusError: boolean;
  /** A span of the message plumbing (a stream writer): never a call or a task, transparent to pairing. */
  plumbing: boolean;
  method: string | null;
  tool: string | null;
  taskId: string | null;
  /** What the span says of its task when it names none: `task-grouping.ts`. */
  taskHint: string | null;
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
  /** `input_required` rounds and MCP tasks (protocol 2026-07-28), when the span says anything of them. */
  callDetail: CallDetail | null;
}

/** A tool call's method, as the conventions name it. */
export const TOOLS_CALL_METHOD = MCP_METHOD_TOOLS_CALL;

const text = (value: AttributeValue | undefined): string | null => {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
};

/**
 * Above this a count is no count of tokens but a broken producer's: ignored, so sums over a task stay
 * exact in a double and within the database's 64-bit columns.
 */
export const MAX_TOKEN_COUNT = 2 ** 40;

/**
 * A token count as rollups may sum it, or null: whole, not negative, at most MAX_TOKEN_COUNT. Applied
 * at ingest and to rows read back, so counts stored before the bound count as none too.
 */
export const tokenCountOf = (value: unknown): number | null => {
  const count = typeof value === 'string' || typeof value === 'bigint' ? Number(value) : value;
  return typeof count === 'number' && Number.isFinite(count) && count >= 0 && count <= MAX_TOKEN_COUNT
    ? Math.trunc(count)
    : null;
};

const tokenCount = (attributes: Attributes, aliases: readonly string[]): number | null => {
  for (const name of aliases) {
    const count = tokenCountOf(attributes[name]);
    if (count !== null) return count;
  }
  return null;
};

/** Tool names as other producers write them: the conventions' name first, then an earlier draft's. */
const TOOL_NAME_ATTRIBUTES = [ATTR_GEN_AI_TOOL_NAME, 'mcp.tool.name'] as const;
/** One attribute per argument, as some MCP instrumentations record them (`mcp.request.argument.region`). */
const ARGUMENT_ATTRIBUTE_PREFIX = 'mcp.request.argument.';

const firstText = (attributes: Attributes, names: readonly string[]): string | null => {
  for (const name of names) {
    const value = text(attributes[name]);
    if (value !== null) return value;
  }
  return null;
};

/** The arguments of a call, as JSON: the conventions' attribute, else one attribute per argument. */
const argumentsText = (attributes: Attributes): string | null => {
  const recorded = text(attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]);
  if (recorded !== null) return recorded;
  let assembled: Record<string, AttributeValue> | undefined;
  for (const name of Object.keys(attributes)) {
    if (!name.startsWith(ARGUMENT_ATTRIBUTE_PREFIX)) continue;
    assembled ??= {};
    assembled[name.slice(ARGUMENT_ATTRIBUTE_PREFIX.length)] = attributes[name] as AttributeValue;
  }
  return assembled === undefined ? null : canonicalJson(assembled);
};

/**
 * A fingerprint for a call whose producer sent none (an instrumentation other than mcpscope), so its
 * retries are recognised too: a hash of the arguments as stored. They were redacted before, so the hash
 * tells no more than they do; calls that differ only in a secret look alike, as a retry with a fresh
 * token should.
 */
const storedArgumentsFingerprint = (argumentsJson: string): string => {
  let canonical = argumentsJson;
  try {
    canonical = canonicalJson(JSON.parse(argumentsJson));
  } catch {
    // Not JSON (or cut short): the text as stored.
  }
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
};

/**
 * Traceloop's MCP instrumentation (OpenLLMetry) writes no `mcp.method.name`: a tool call is a span
 * named `{tool}.tool` of kind `tool`, any other request `{method}.mcp`, and the call's input is
 * `{"tool_name":…,"arguments":{…}}` in `traceloop.entity.input`. Recognised only from its MCP
 * instrumentation scope, so tools it traces elsewhere (LangChain, plain functions) stay what they are.
 */
const TRACELOOP_SPAN_KIND = 'traceloop.span.kind';
const TRACELOOP_ENTITY_NAME = 'traceloop.entity.name';
const TRACELOOP_ENTITY_INPUT = 'traceloop.entity.input';
const TRACELOOP_MCP_SCOPE = /^(@traceloop\/instrumentation-mcp|opentelemetry\.instrumentation\.mcp)\b/;

interface CallShape {
  method: string | null;
  tool: string | null;
  args: string | null;
}

/**
 * OpenLLMetry's MCP instrumentation wraps every message write (Python) in a span of its own, made the
 * current span while the message is sent, so a caller's `_meta` names the writer, not the tool call;
 * its JavaScript client opens one session span over all of a connection's requests.
 */
export const PLUMBING_SPAN_NAMES: ReadonlySet<string> = new Set([
  'ResponseStreamWriter',
  'RequestStreamWriter',
  'mcp.client.session',
]);

/** Whether a span is message plumbing rather than a request, an agent step or an LLM call. */
export const isPlumbingSpan = (scopeName: string, name: string): boolean =>
  PLUMBING_SPAN_NAMES.has(name) && TRACELOOP_MCP_SCOPE.test(scopeName);

const traceloopCall = (span: SpanRecord): CallShape | null => {
  if (!TRACELOOP_MCP_SCOPE.test(span.scopeName)) return null;
  const attributes = span.attributes;
  if (attributes[TRACELOOP_SPAN_KIND] === 'tool' && span.name.endsWith('.tool')) {
    return {
      method: TOOLS_CALL_METHOD,
      tool: text(attributes[TRACELOOP_ENTITY_NAME]) ?? span.name.slice(0, -'.tool'.length),
      args: traceloopArguments(text(attributes[TRACELOOP_ENTITY_INPUT])),
    };
  }
  if (span.name.endsWith('.mcp'))
    return { method: span.name.slice(0, -'.mcp'.length), tool: null, args: null };
  return null;
};

/** The `arguments` of Traceloop's input as canonical JSON; its text as stored when it is not JSON. */
const traceloopArguments = (input: string | null): string | null => {
  if (input === null) return null;
  try {
    const parsed: unknown = JSON.parse(input);
    if (parsed !== null && typeof parsed === 'object' && 'arguments' in parsed)
      return canonicalJson((parsed as { arguments: unknown }).arguments);
    return null;
  } catch {
    return input;
  }
};

const callShape = (span: SpanRecord): CallShape => {
  const attributes = span.attributes;
  const method = text(attributes[ATTR_MCP_METHOD_NAME]);
  if (method === null) {
    const traceloop = traceloopCall(span);
    if (traceloop !== null) return traceloop;
  }
  return {
    method,
    tool:
      firstText(attributes, TOOL_NAME_ATTRIBUTES) ??
      (method === TOOLS_CALL_METHOD ? toolOfSpanName(span.name) : null),
    args: method === TOOLS_CALL_METHOD ? argumentsText(attributes) : null,
  };
};

/**
 * The tool of a `tools/call` span that names it only in its span name: the conventions' `tools/call
 * {tool}`, or Python `mcp`'s client span `MCP send tools/call {tool}`, which has no tool attribute.
 */
const TOOL_IN_SPAN_NAME = /^(?:MCP (?:send|handle) )?tools\/call (\S.*)$/;
const toolOfSpanName = (name: string): string | null => TOOL_IN_SPAN_NAME.exec(name)?.[1] ?? null;

const verdict = (value: AttributeValue | undefined): FeedbackVerdict | null =>
  FEEDBACK_VERDICTS.find((known) => known === value) ?? null;

export const spanFacts = (span: SpanRecord): SpanFacts => {
  const attributes = span.attributes;
  const { method, tool, args } = callShape(span);
  const fingerprint = text(attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]);
  const errorType = text(attributes[ATTR_ERROR_TYPE]);
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    kind: span.kind,
    startNs: span.startTimeUnixNano,
    endNs: span.endTimeUnixNano,
    serviceName: span.serviceName,
    scopeName: span.scopeName,
    statusError: span.statusCode === 'error',
    plumbing: isPlumbingSpan(span.scopeName, span.name),
    method,
    tool,
    taskId: text(attributes[ATTR_MCPSCOPE_TASK_ID]),
    taskHint: spanTaskHint(span),
    fingerprint: fingerprint ?? (args === null ? null : storedArgumentsFingerprint(args)),
    errorType,
    arguments: args,
    inputTokens: tokenCount(attributes, TOKEN_USAGE_INPUT_ALIASES),
    outputTokens: tokenCount(attributes, TOKEN_USAGE_OUTPUT_ALIASES),
    authOutcome: text(attributes[ATTR_MCPSCOPE_AUTH_OUTCOME]),
    authReason: text(attributes[ATTR_MCPSCOPE_AUTH_REASON]),
    authSide: text(attributes[ATTR_MCPSCOPE_AUTH_SIDE]),
    feedbackVerdict: verdict(attributes[ATTR_MCPSCOPE_FEEDBACK_VERDICT]),
    feedbackNote: text(attributes[ATTR_MCPSCOPE_FEEDBACK_NOTE]),
    callDetail: callDetailOf(attributes, method, errorType),
  };
};

export const spanKey = (traceId: string, spanId: string): string => `${traceId}:${spanId}`;
