import { spanFailed } from './failed-call.js';
import { spanKey, TOOLS_CALL_METHOD, type SpanFacts } from './span-facts.js';

/**
 * One logical tool call and every span that recorded it: the caller's span, the server's, and a second
 * instrumentation's record of either. `spans[0]` is the outermost (the caller's when it reported).
 */
export interface RecordedCall {
  spans: SpanFacts[];
  /** Only the server reported it so far, and its caller's span (named as its parent) has not arrived. */
  awaitingCaller: boolean;
}

/**
 * A request whose answer asked for input (`input_required`) is a round of a call, not a call: the
 * request that completes it, or the caller's span over all rounds, is the call.
 */
export const isCallSpan = (span: SpanFacts): boolean =>
  span.method === TOOLS_CALL_METHOD && span.callDetail?.asked !== true && !span.plumbing;

/** The tool of a call none of whose spans names one. */
export const UNKNOWN_TOOL = 'unknown';

const toolsAgree = (a: SpanFacts, b: SpanFacts): boolean =>
  a.tool === null || b.tool === null || a.tool === b.tool;

/**
 * Whether `span` records the same call as `parent`, the nearest call span above it with only plumbing
 * in between: a server span under a caller's (the MCP hop), or, in the same service, a second
 * instrumentation's record of the same side (Traceloop's client span around mcpscope's, Sentry's server
 * span around mcpscope's). A caller span under a server span is an outbound call the tool made, and a
 * span of another service on the same side is a hop whose caller was not instrumented.
 */
export const sameCall = (span: SpanFacts, parent: SpanFacts): boolean => {
  if (!toolsAgree(span, parent)) return false;
  if (span.kind === 'server' && parent.kind !== 'server') return true;
  if (span.kind === 'client' && parent.kind === 'server') return false;
  return span.serviceName === parent.serviceName;
};

/**
 * Groups a task's tool-call spans into logical calls. A span joins the call of its nearest call-span
 * ancestor when {@link sameCall} says so; plumbing spans between them (a stream writer that a caller
 * put into `_meta`) are looked through.
 */
export const recordedCalls = (spans: readonly SpanFacts[]): RecordedCall[] => {
  const byKey = new Map<string, SpanFacts>();
  for (const span of spans) byKey.set(spanKey(span.traceId, span.spanId), span);
  const callAbove = (span: SpanFacts): SpanFacts | undefined => {
    const seen = new Set<string>();
    let parentId = span.parentSpanId;
    while (parentId !== null) {
      const key = spanKey(span.traceId, parentId);
      const parent = byKey.get(key);
      if (parent === undefined || seen.has(key)) return undefined;
      if (!parent.plumbing) return isCallSpan(parent) ? parent : undefined;
      seen.add(key);
      parentId = parent.parentSpanId;
    }
    return undefined;
  };
  // Each call span's outermost record, memoised so long chains stay linear.
  const outermost = new Map<SpanFacts, SpanFacts>();
  const outermostOf = (span: SpanFacts, depth = 0): SpanFacts => {
    const known = outermost.get(span);
    if (known !== undefined) return known;
    const parent = callAbove(span);
    const top =
      parent !== undefined && depth < 64 && sameCall(span, parent) ? outermostOf(parent, depth + 1) : span;
    outermost.set(span, top);
    return top;
  };
  const calls = new Map<SpanFacts, RecordedCall>();
  const callSpans = spans.filter(isCallSpan);
  for (const span of callSpans) {
    const top = outermostOf(span);
    if (!calls.has(top))
      calls.set(top, {
        spans: [top],
        awaitingCaller:
          top.kind === 'server' &&
          top.parentSpanId !== null &&
          !byKey.has(spanKey(top.traceId, top.parentSpanId)),
      });
  }
  for (const span of callSpans) {
    const top = outermostOf(span);
    if (top !== span) calls.get(top)?.spans.push(span);
  }
  return [...calls.values()];
};

/** The first value a call's records give, the outermost record first. */
export const firstKnown = <T>(call: RecordedCall, field: (span: SpanFacts) => T | null): T | null => {
  for (const span of call.spans) {
    const value = field(span);
    if (value !== null) return value;
  }
  return null;
};

/**
 * The truest outcome of a call: failed when any record of it failed (the server sees an `isError`
 * result its caller may not mark; the caller sees a timeout or a lost connection the server does
 * not), with the first error type a failed record names.
 */
export const callFailure = (call: RecordedCall): { failed: boolean; errorType: string | null } => {
  const failed = call.spans.filter(spanFailed);
  return {
    failed: failed.length > 0,
    errorType: failed.find((span) => span.errorType !== null)?.errorType ?? null,
  };
};
