import { spanKey, type SpanFacts } from './span-facts.js';

export interface TokenTotals {
  inputTokens: number;
  outputTokens: number;
}

const hasUsage = (span: SpanFacts) => span.inputTokens !== null || span.outputTokens !== null;

/** Spans with usage that none of their descendants' usage already covers (a chain over its model call). */
const innermostUsage = (spans: readonly SpanFacts[]): SpanFacts[] => {
  const byKey = new Map(spans.map((span) => [spanKey(span.traceId, span.spanId), span]));
  const coveredByDescendant = new Set<string>();
  for (const span of spans) {
    if (!hasUsage(span)) continue;
    let parentId = span.parentSpanId;
    const seen = new Set<string>();
    while (parentId !== null) {
      const key = spanKey(span.traceId, parentId);
      if (seen.has(key)) break; // a cycle in bad input must not hang the rollup
      seen.add(key);
      coveredByDescendant.add(key);
      parentId = byKey.get(key)?.parentSpanId ?? null;
    }
  }
  return spans.filter(
    (span) => hasUsage(span) && !coveredByDescendant.has(spanKey(span.traceId, span.spanId)),
  );
};

const within = (inner: SpanFacts, outer: SpanFacts): boolean =>
  inner.startNs >= outer.startNs && inner.endNs <= outer.endNs;

/**
 * One LLM call recorded by several producers, counted once. Callback-based instrumentations (LangChain's
 * under OpenInference or Traceloop) never make their span current, so a model call recorded by the
 * framework's instrumentation and by the model SDK's comes out as two spans that are not ancestor and
 * descendant. They are recognised as one call when, in one trace, they carry the same input and output
 * counts, come from different instrumentation scopes, and one lies within the other's time. Each call
 * keeps at most one span per scope: a producer records each of its calls once, so two parallel calls
 * with equal counts (two spans of one scope) stay two, whichever producers also recorded them.
 */
export const distinctModelCalls = (usageSpans: readonly SpanFacts[]): SpanFacts[] => {
  const byCounts = new Map<string, SpanFacts[]>();
  for (const span of usageSpans) {
    const key = `${span.traceId}\u0000${span.inputTokens ?? ''}\u0000${span.outputTokens ?? ''}`;
    const list = byCounts.get(key);
    if (list === undefined) byCounts.set(key, [span]);
    else list.push(span);
  }
  const distinct: SpanFacts[] = [];
  for (const candidates of byCounts.values()) {
    // Outer spans first, so a call's framework span meets the SDK spans inside it.
    const ordered = [...candidates].sort((a, b) =>
      a.startNs !== b.startNs
        ? a.startNs < b.startNs
          ? -1
          : 1
        : b.endNs > a.endNs
          ? 1
          : b.endNs < a.endNs
            ? -1
            : a.spanId < b.spanId
              ? -1
              : 1,
    );
    const calls: { first: SpanFacts; scopes: Set<string> }[] = [];
    for (const span of ordered) {
      const same = calls.find(
        (call) => !call.scopes.has(span.scopeName) && (within(span, call.first) || within(call.first, span)),
      );
      if (same !== undefined) {
        same.scopes.add(span.scopeName);
        continue;
      }
      calls.push({ first: span, scopes: new Set([span.scopeName]) });
      distinct.push(span);
    }
  }
  return distinct;
};

/**
 * Sums usage over the spans that carry it, skipping a span when one of its descendants carries usage,
 * and counting a model call recorded by two producers once ({@link distinctModelCalls}).
 */
export const tokenTotals = (spans: readonly SpanFacts[]): TokenTotals => {
  let inputTokens = 0;
  let outputTokens = 0;
  for (const span of distinctModelCalls(innermostUsage(spans))) {
    inputTokens += span.inputTokens ?? 0;
    outputTokens += span.outputTokens ?? 0;
  }
  // Each count is bounded (tokenCountOf); summed over very many spans, still never past what a column holds.
  return {
    inputTokens: Math.min(inputTokens, Number.MAX_SAFE_INTEGER),
    outputTokens: Math.min(outputTokens, Number.MAX_SAFE_INTEGER),
  };
};
