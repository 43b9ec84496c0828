import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { explainExportFailure } from './export-failure.js';

// gRPC status codes the OTLP specification calls retryable.
const CANCELLED = 1;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const ABORTED = 10;
const OUT_OF_RANGE = 11;
const UNAVAILABLE = 14;
const DATA_LOSS = 15;
const RETRYABLE = new Set([CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS]);

/**
 * Whether a failed OTLP/gRPC export may succeed if sent again: the retryable codes, and
 * RESOURCE_EXHAUSTED from a server that is overloaded (not grpc-js refusing an oversized message,
 * which fails the same way every time).
 */
export const isRetryableExportError = (error: unknown): boolean => {
  const { code, details } = (error ?? {}) as { code?: unknown; details?: unknown };
  if (typeof code !== 'number') return false;
  if (code === RESOURCE_EXHAUSTED) return !(typeof details === 'string' && /larger than max/i.test(details));
  return RETRYABLE.has(code);
};

export interface RetryOptions {
  /**
   * Give up once this much time has passed since the first attempt. Short: while a batch is retried
   * the batch processor's export timer keeps a finished process alive, so this bounds how long a
   * process lingers at exit when its collector is down. Long enough for a collector restart.
   */
  maxElapsedMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Where the inner exporter sends, named in the warning about dropped spans. */
  endpoint?: string;
}

/**
 * The failure a batch ends with once it is given up. Its warning was already written (one line,
 * rate-limited); an error handler that sees this error again has nothing to add.
 */
export class SpansDroppedError extends Error {
  override readonly name = 'SpansDroppedError';
}

/**
 * Retries failed exports with exponential backoff and jitter. The OTLP/gRPC exporter of the
 * OpenTelemetry JS lines that run on Node 20 reports every gRPC error as final, so a collector that
 * restarts or sheds load (UNAVAILABLE, RESOURCE_EXHAUSTED) would lose the batch. While a batch is
 * retried the batch processor holds new spans in its bounded queue and counts what it drops.
 */
export class RetryingSpanExporter implements SpanExporter {
  private readonly maxElapsedMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly endpoint: string | undefined;
  private stopped = false;
  /** Until then the collector counts as down: batches get one attempt, no retries, so none lingers. */
  private downUntil = 0;
  private exiting = false;
  /** Spans given up since start, for the diagnostic that reports drops. */
  private dropped = 0;

  constructor(
    private readonly inner: SpanExporter,
    { maxElapsedMs = 5_000, initialBackoffMs = 250, maxBackoffMs = 2_000, endpoint }: RetryOptions = {},
  ) {
    this.endpoint = endpoint;
    this.maxElapsedMs = maxElapsedMs;
    this.initialBackoffMs = initialBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
  }

  /**
   * The process is ending: batches get one attempt and no retries, so a process whose collector is
   * down ends as promptly as one whose collector answers; while the collector counts as down, batches
   * are given up at once rather than waiting out a connection attempt (their loss was reported).
   */
  prepareForExit(): void {
    this.exiting = true;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.exiting && Date.now() < this.downUntil) {
      this.dropped += spans.length;
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new SpansDroppedError('collector unreachable at exit'),
      });
      return;
    }
    const started = Date.now();
    // A collector that just exhausted a retry budget is likely still down: one attempt, no retries.
    const mayRetry = started >= this.downUntil && !this.exiting;
    let attempt = 0;
    const giveUp = (result: ExportResult, unreachable: boolean) => {
      if (unreachable) this.downUntil = Date.now() + this.maxElapsedMs;
      this.dropped += spans.length;
      const where = this.endpoint === undefined ? 'the collector' : `the collector at ${this.endpoint}`;
      const why = explainExportFailure(this.endpoint ?? '', result.error);
      // Rate-limited by the diagnostics logger: one line a minute, with a count of the lines suppressed.
      diag.warn(
        `mcpscope: ${spans.length} spans could not be delivered to ${where} and are dropped (${this.dropped} since start): ${why}`,
      );
      resultCallback({ code: result.code, error: new SpansDroppedError(`${spans.length} spans dropped`) });
    };
    const send = () =>
      this.inner.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          this.downUntil = 0;
          resultCallback(result);
          return;
        }
        const retryable = isRetryableExportError(result.error);
        if (this.stopped || this.exiting || !retryable || !mayRetry) {
          giveUp(result, retryable);
          return;
        }
        const remaining = this.maxElapsedMs - (Date.now() - started);
        if (remaining <= 0) {
          giveUp(result, true);
          return;
        }
        const backoff = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** attempt);
        // A backoff that would overshoot the budget becomes one last attempt at its end.
        const delay = Math.min(remaining, Math.round(backoff * (0.5 + Math.random())));
        attempt += 1;
        diag.debug(`mcpscope: export failed with a retryable error; retrying in ${delay} ms`);
        // Unref'd: a retry alone never keeps a finished process alive (the exit flush bounds the wait).
        setTimeout(send, delay).unref();
      });
    send();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.inner.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.inner.forceFlush?.();
  }
}
