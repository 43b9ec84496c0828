import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
} from '@mcpscope/instrumentation/conventions';
import type { Attributes, SpanKind, SpanRecord } from '../../model/span.js';

/** 2026-01-01T00:00:00Z in Unix nanoseconds: every test span is placed relative to it. */
export const BASE_NS = 1_767_225_600_000_000_000n;
export const BASE_MS = Number(BASE_NS / 1_000_000n);

const hex = (label: string, length: number): string => {
  let hash = 0n;
  for (const char of label) hash = (hash * 131n + BigInt(char.codePointAt(0) ?? 0)) % (1n << 64n);
  return (hash.toString(16) + label.length.toString(16)).padStart(length, 'a').slice(-length);
};
/** Readable names in tests, valid ids on the wire. */
export const traceId = (label: string): string => hex(`trace:${label}`, 32);
export const spanId = (label: string): string => hex(`span:${label}`, 16);

export interface SpanSpec {
  trace: string;
  span: string;
  parent?: string;
  name?: string;
  kind?: SpanKind;
  /** Milliseconds after {@link BASE_NS}. */
  startMs: number;
  durationMs: number;
  service: string;
  error?: boolean;
  attributes?: Attributes;
}

export const makeSpan = ({
  trace,
  span,
  parent,
  name = 'work',
  kind = 'internal',
  startMs,
  durationMs,
  service,
  error = false,
  attributes = {},
}: SpanSpec): SpanRecord => {
  const start = BASE_NS + BigInt(Math.round(startMs * 1e6));
  return {
    traceId: traceId(trace),
    spanId: spanId(span),
    parentSpanId: parent === undefined ? null : spanId(parent),
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(Math.round(durationMs * 1e6)),
    statusCode: error ? 'error' : 'unset',
    statusMessage: '',
    serviceName: service,
    scopeName: 'mcpscope-test',
    attributes,
    resourceAttributes: { 'service.name': service },
    events: [],
    links: [],
  };
};

export interface ToolCallSpec extends Omit<SpanSpec, 'name' | 'attributes'> {
  tool: string;
  fingerprint?: string;
  errorType?: string;
  arguments?: unknown;
  attributes?: Attributes;
}

export const toolCallSpan = ({
  tool,
  fingerprint,
  errorType,
  arguments: args,
  attributes,
  ...spec
}: ToolCallSpec) =>
  makeSpan({
    ...spec,
    name: `tools/call ${tool}`,
    attributes: {
      [ATTR_MCP_METHOD_NAME]: 'tools/call',
      [ATTR_GEN_AI_TOOL_NAME]: tool,
      ...(fingerprint === undefined ? {} : { [ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]: fingerprint }),
      ...(errorType === undefined ? {} : { [ATTR_ERROR_TYPE]: errorType }),
      ...(args === undefined ? {} : { [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: JSON.stringify(args) }),
      ...attributes,
    },
  });
