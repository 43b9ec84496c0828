import { sameCall, spanErrorType, spanKey, TOOLS_CALL_METHOD, type SpanFacts } from '../rollup/index.js';

export type CallSide = 'client' | 'server';

/** The side of the MCP hop a request span recorded: a producer's INTERNAL request span is the caller's. */
export const callSide = (facts: SpanFacts): CallSide | null => {
  if (facts.method === null || facts.plumbing) return null;
  if (facts.kind === 'server') return 'server';
  return facts.kind === 'client' || facts.kind === 'internal' ? 'client' : null;
};

/**
 * Recent tool-call spans, so a call recorded twice on one side (Traceloop's client span around
 * mcpscope's, Sentry's server span around mcpscope's) is observed once in the operation-duration
 * histograms, whichever of the two arrives first. Bounded: the oldest are forgotten first, and a
 * second record arriving after that counts again.
 */
export class RecentCallSpans {
  private readonly byKey = new Map<string, SpanFacts>();
  private readonly childrenOf = new Map<string, string[]>();

  constructor(private readonly capacity = 50_000) {}

  /**
   * Remembers a tool-call span. `second` when another record of the same call on its side came first;
   * `tool` is the call's tool as this span or a known record of the same call (either side) names it;
   * `errorType` is this span's error or, on the caller's side, the error a known server record of the
   * same call saw (a caller's span that cannot read an `isError` result, as the Python `mcp` SDK's).
   */
  observe(facts: SpanFacts): { second: boolean; tool: string | null; errorType: string | null } {
    const own = spanErrorType(facts);
    if (facts.method !== TOOLS_CALL_METHOD) return { second: false, tool: facts.tool, errorType: own };
    const side = callSide(facts);
    const key = spanKey(facts.traceId, facts.spanId);
    const parent =
      facts.parentSpanId === null ? undefined : this.byKey.get(spanKey(facts.traceId, facts.parentSpanId));
    const peers: SpanFacts[] = [];
    if (parent !== undefined && sameCall(facts, parent)) peers.push(parent);
    for (const childKey of this.childrenOf.get(key) ?? []) {
      const child = this.byKey.get(childKey);
      if (child !== undefined && sameCall(child, facts)) peers.push(child);
    }
    this.remember(key, facts);
    return {
      second: peers.some((peer) => callSide(peer) === side),
      tool: facts.tool ?? peers.find((peer) => peer.tool !== null)?.tool ?? null,
      errorType:
        own ??
        (side === 'client'
          ? (peers
              .filter((peer) => callSide(peer) === 'server')
              .map(spanErrorType)
              .find((type) => type !== null) ?? null)
          : null),
    };
  }

  private remember(key: string, facts: SpanFacts): void {
    this.byKey.set(key, facts);
    if (facts.parentSpanId !== null) {
      const parentKey = spanKey(facts.traceId, facts.parentSpanId);
      const children = this.childrenOf.get(parentKey);
      if (children === undefined) this.childrenOf.set(parentKey, [key]);
      else children.push(key);
    }
    for (const [oldKey, old] of this.byKey) {
      if (this.byKey.size <= this.capacity) break;
      this.byKey.delete(oldKey);
      if (old.parentSpanId !== null) this.childrenOf.delete(spanKey(old.traceId, old.parentSpanId));
    }
  }
}
