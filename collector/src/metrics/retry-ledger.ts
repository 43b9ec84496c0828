import type { ToolCallRollup } from '../rollup/index.js';

/**
 * Which retries the retry counter has counted, so a logical call counts once whichever of its spans
 * named it: the caller's, the server's, or a second instrumentation's. A retry only the server has
 * reported yet, whose caller's span is on its way (a stdio server exports on its own), waits for the
 * caller so it counts under the caller's service; if none comes within the settle time it counts under
 * the server's. Bounded: the oldest ids are forgotten first.
 */
export class RetryLedger {
  private readonly counted = new Set<string>();
  private readonly waiting = new Map<string, { call: ToolCallRollup; sinceMs: number }>();

  constructor(private readonly capacity = 100_000) {}

  /** The retries of a rollup that count now. */
  take(calls: readonly ToolCallRollup[], nowMs: number): ToolCallRollup[] {
    const toCount: ToolCallRollup[] = [];
    for (const call of calls) {
      const ids = [call.spanId, ...call.peerSpanIds];
      if (ids.some((id) => this.counted.has(id))) {
        for (const id of ids) this.markCounted(id);
        continue;
      }
      if (call.awaitingCaller) {
        if (!this.waiting.has(call.spanId)) this.waiting.set(call.spanId, { call, sinceMs: nowMs });
        continue;
      }
      for (const id of ids) {
        this.waiting.delete(id);
        this.markCounted(id);
      }
      toCount.push(call);
    }
    return toCount;
  }

  /** Retries whose caller did not arrive within `afterMs`: they count under the server. */
  expire(nowMs: number, afterMs: number): ToolCallRollup[] {
    const toCount: ToolCallRollup[] = [];
    for (const [spanId, { call, sinceMs }] of this.waiting) {
      if (nowMs - sinceMs < afterMs) continue;
      this.waiting.delete(spanId);
      this.markCounted(spanId);
      toCount.push(call);
    }
    return toCount;
  }

  private markCounted(id: string): void {
    this.counted.add(id);
    for (const old of this.counted) {
      if (this.counted.size <= this.capacity) break;
      this.counted.delete(old);
    }
  }
}
