/** What the orchestrator and a variant's child process exchange. */
import type { ArgumentsKind } from './call-fixture.js';
import type { ObservedSpan } from './variants.js';

export type WorkerMode = 'timing' | 'heap' | 'attributes' | 'serve';

/** One batch a serving worker runs when told (`serve` mode), or the word to stop. */
export type BatchCommand = { kind: ArgumentsKind; calls: number } | { kind: 'stop' };

export interface WorkerRequest {
  clientSdkRoot: string;
  warmupCalls: number;
  calls: number;
  /** Timing: the calls are made in this many batches per argument size; the median batch counts. */
  batches: number;
  /** Heap: stop after this many seconds (at a multiple of 1,000 calls) even if `calls` were not all made. */
  budgetSeconds?: number;
}

export interface TimingResult {
  mode: 'timing';
  microsPerCall: Record<ArgumentsKind, number>;
}

export interface HeapResult {
  mode: 'heap';
  calls: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
}

export interface AttributesResult {
  mode: 'attributes';
  toolCallSpans: ObservedSpan[];
}

export interface ServeResult {
  mode: 'serve';
}

export type WorkerResult = TimingResult | HeapResult | AttributesResult | ServeResult;

export const RESULT_PREFIX = 'BENCH_RESULT ';
/** A serving worker is warm and waits for batches. */
export const READY_PREFIX = 'BENCH_READY';
/** A serving worker's answer to one batch: `{ "micros": wall µs per call, "cpuMicros": CPU µs per call }`. */
export const BATCH_PREFIX = 'BENCH_BATCH ';
