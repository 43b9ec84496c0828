import type { AuthGate } from '../auth/auth-gate.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { IngestObserver } from '../model/ingest-events.js';
import type { SpanRecord, SpanSink } from '../model/span.js';
import type { OtlpLimits } from '../otlp/limits.js';
import type { WorkBudget } from '../pipeline/work-budget.js';
import type { SpanPreparer } from '../prepare/prepare-spans.js';
import type { SpanRedactor } from '../redact/types.js';

/** What both OTLP receivers (HTTP and gRPC) are built from. */
export interface OtlpReceiverOptions {
  /** Where redacted spans go; its promise settles after commit, and only then does the exporter get its answer. */
  sink: SpanSink;
  redactor: SpanRedactor;
  /** Omitted or with nothing configured: ingest is open. */
  authenticator?: Authenticator;
  /**
   * Authentication with failures limited per client address, and the producer identity spans are
   * bound to. Built from `authenticator` when omitted; share one between receivers and the API.
   */
  authGate?: AuthGate;
  /** How far past arrival a producer's clock is trusted (default 5 minutes). */
  maxFutureSkewMs?: number;
  observer?: IngestObserver;
  limits?: Partial<OtlpLimits>;
  /**
   * Bounds the decompressed bytes of requests being read, inflated, decoded and redacted; share one
   * between receivers. Omitted: each receiver has its own of the default size.
   */
  workBudget?: WorkBudget;
  /** Receives the redacted spans once the sink committed them, e.g. a forwarder. Must not throw or block. */
  onCommitted?: (spans: SpanRecord[]) => void;
  /**
   * Decodes and redacts a request off the main thread, e.g. a `PreparePool`; it must redact as
   * `redactor` does. Omitted: decoding and redaction run on the main thread with `redactor`.
   */
  prepare?: SpanPreparer;
}
