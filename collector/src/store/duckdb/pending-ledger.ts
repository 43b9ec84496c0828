import type { SpanFacts } from '../../rollup/index.js';

/** A trace with spans acknowledged but not rolled up yet. */
export interface PendingTrace {
  /** Spans appended since the last rollup. */
  count: number;
  /** Their facts and ids; absent for traces found pending in the file at start-up. */
  facts?: SpanFacts[];
  spanIds?: Set<string>;
}

/** What one rollup takes: the pending traces, and the last ingest commit whose marks it clears. */
export interface RollupTake {
  traces: Map<string, PendingTrace>;
  throughSeq: bigint;
}

/**
 * The in-memory twin of the `rollup_pending` table: which traces have spans committed and not yet
 * rolled up, numbered by ingest commit. Ingest commits add to it after COMMIT, a rollup takes all of
 * it at once, and a failed rollup puts what it took back. While a rollup runs, what it took still
 * counts as stored for duplicate detection.
 */
export class PendingLedger {
  private pending = new Map<string, PendingTrace>();
  private spans = 0;
  /** The highest ingest commit number whose traces are in `pending`. */
  private pendingSeq = 0n;
  private nextSeq = 1n;
  /** What the running rollup took: its spans count as stored until its commit is visible. */
  private rollingUp: ReadonlyMap<string, PendingTrace> | undefined;
  /**
   * Traces set aside: their rollup failed alone too often. They stay marked pending in the file, so
   * the next start tries them again, and out of every rollup until then.
   */
  readonly setAside = new Set<string>();

  /** Loads what the file says is pending (after a crash, or a trace set aside before a restart). */
  recover(rows: Iterable<{ traceId: string; spans: number; seq: bigint }>): void {
    for (const { traceId, spans, seq } of rows) {
      this.pending.set(traceId, { count: spans });
      this.spans += spans;
      if (seq > this.pendingSeq) this.pendingSeq = seq;
    }
    this.nextSeq = this.pendingSeq + 1n;
  }

  /** Traces waiting for a rollup. */
  get traceCount(): number {
    return this.pending.size;
  }

  /** Spans waiting for a rollup, not counting those of the running one. */
  get waitingSpans(): number {
    return this.spans;
  }

  /** Spans acknowledged whose rollup has not committed yet. */
  get unrolledSpans(): number {
    let spans = this.spans;
    for (const entry of this.rollingUp?.values() ?? []) spans += entry.count;
    return spans;
  }

  /**
   * Whether a span is committed but not rolled up, as of now: taken before reading the file, so a
   * rollup that commits meanwhile is either seen in the file or still held by this view.
   */
  unrolledView(): (traceId: string, spanId: string) => boolean {
    const pending = this.pending;
    const rollingUp = this.rollingUp;
    return (traceId, spanId) =>
      pending.get(traceId)?.spanIds?.has(spanId) === true ||
      rollingUp?.get(traceId)?.spanIds?.has(spanId) === true;
  }

  /** Numbers an ingest commit; its marks in `rollup_pending` carry the number. */
  nextCommitSeq(): bigint {
    return this.nextSeq++;
  }

  /** Records a committed batch's traces: only what the file holds is pending, so called after COMMIT. */
  committed(factsByTrace: ReadonlyMap<string, SpanFacts[]>, seq: bigint): void {
    let added = 0;
    for (const [traceId, facts] of factsByTrace) {
      if (this.setAside.has(traceId)) continue;
      added += facts.length;
      const entry = this.pending.get(traceId);
      if (entry === undefined) {
        this.pending.set(traceId, {
          count: facts.length,
          facts,
          spanIds: new Set(facts.map((fact) => fact.spanId)),
        });
      } else {
        entry.count += facts.length;
        if (entry.facts !== undefined && entry.spanIds !== undefined) {
          for (const fact of facts) entry.facts.push(fact);
          for (const fact of facts) entry.spanIds.add(fact.spanId);
        }
      }
    }
    this.spans += added;
    this.pendingSeq = seq;
  }

  /** Takes every pending trace for a rollup; undefined when there is none. */
  take(): RollupTake | undefined {
    if (this.pending.size === 0) return undefined;
    const take = { traces: this.pending, throughSeq: this.pendingSeq };
    this.pending = new Map();
    this.spans = 0;
    this.rollingUp = take.traces;
    return take;
  }

  /** The running rollup is over: committed, or its traces put back. */
  rollupDone(): void {
    this.rollingUp = undefined;
  }

  /** Puts traces back (spans committed since stay merged in), for another rollup. */
  putBack(traces: Map<string, PendingTrace>): void {
    for (const [traceId, entry] of this.pending) {
      const earlier = traces.get(traceId);
      if (earlier === undefined) traces.set(traceId, entry);
      else {
        earlier.count += entry.count;
        if (earlier.facts !== undefined && entry.facts !== undefined)
          for (const fact of entry.facts) earlier.facts.push(fact);
        else delete earlier.facts;
        if (earlier.spanIds !== undefined && entry.spanIds !== undefined)
          for (const id of entry.spanIds) earlier.spanIds.add(id);
        else delete earlier.spanIds;
      }
    }
    this.pending = traces;
    let spans = 0;
    for (const entry of traces.values()) spans += entry.count;
    this.spans = spans;
  }
}
