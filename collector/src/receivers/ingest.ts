import { clampToArrival } from '../guards/span-times.js';
import type { IngestObserver, IngestProtocol, RejectionReason } from '../model/ingest-events.js';
import { IngestOverloadedError, type SpanRecord, type SpanSink } from '../model/span.js';
import type { PartialSuccess } from '../otlp/encode.js';
import type { OtlpLimits } from '../otlp/limits.js';
import type { WorkReservation } from '../pipeline/work-budget.js';
import {
  PreparerBusyError,
  prepareSpans,
  type PreparedSpans,
  type SpanPreparer,
} from '../prepare/prepare-spans.js';
import type { SpanRedactor } from '../redact/types.js';

/** What a request refused for overload is answered, whichever receiver refused it and when. */
export const overloadedOutcome = (error: IngestOverloadedError) =>
  ({
    ok: false,
    reason: 'overloaded',
    message: 'the collector is overloaded; retry later',
    retryAfterSeconds: Math.max(1, Math.ceil(error.retryAfterSeconds)),
  }) as const;

/** What a request refused before admission to the work budget is answered. */
export const busyOutcome = (retryAfterSeconds = 1) =>
  ({
    ok: false,
    reason: 'overloaded',
    message: 'the collector is busy with other requests; retry later',
    retryAfterSeconds,
  }) as const;

/** Seconds an exporter is asked to wait when storage failed for a reason other than a full queue. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

export type IngestOutcome =
  | { ok: true; spanCount: number; partialSuccess?: PartialSuccess }
  | { ok: false; reason: 'malformed' | 'invalid' | 'limit_exceeded'; message: string }
  | { ok: false; reason: 'overloaded' | 'storage_error'; message: string; retryAfterSeconds: number };

export interface IngestContext {
  sink: SpanSink;
  redactor: SpanRedactor;
  observer: IngestObserver;
  limits: OtlpLimits;
  onCommitted?: (spans: SpanRecord[]) => void;
  /** How far past arrival a producer's clock is trusted; later times become the arrival time. */
  maxFutureSkewMs?: number;
  /** Where decoding and redaction run; omitted: on this thread, with `redactor`. */
  prepare?: SpanPreparer;
}

/** Producer clocks may run this far ahead before their times are clamped to arrival. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** The context of one receiver, without the options it left out. */
export const ingestContext = ({
  onCommitted,
  prepare,
  maxFutureSkewMs,
  ...required
}: Omit<IngestContext, 'onCommitted' | 'prepare' | 'maxFutureSkewMs'> & {
  onCommitted: IngestContext['onCommitted'] | undefined;
  prepare: SpanPreparer | undefined;
  maxFutureSkewMs: number | undefined;
}): IngestContext => ({
  ...required,
  ...(onCommitted && { onCommitted }),
  ...(prepare && { prepare }),
  ...(maxFutureSkewMs !== undefined && { maxFutureSkewMs }),
});

const prepareInline =
  (redactor: SpanRedactor): SpanPreparer =>
  async (body, format, limits) =>
    prepareSpans(body, format, limits, redactor);

/**
 * The one path of a trace export, whatever the transport: decode and validate, redact, hand to the
 * sink and wait for the commit. Rejections are counted here; transports only translate the outcome.
 * `reservation` (the request's share of the work budget) is given back once the queue holds the
 * spans, which it bounds itself, or once the request is refused.
 */
export async function ingestTraceRequest(
  body: Uint8Array,
  format: 'protobuf' | 'json',
  protocol: IngestProtocol,
  context: IngestContext,
  reservation?: WorkReservation,
  producer?: string,
): Promise<IngestOutcome> {
  try {
    return await decodeAndCommit(body, format, protocol, context, () => reservation?.release(), producer);
  } finally {
    reservation?.release();
  }
}

async function decodeAndCommit(
  body: Uint8Array,
  format: 'protobuf' | 'json',
  protocol: IngestProtocol,
  {
    sink,
    redactor,
    observer,
    limits,
    onCommitted,
    prepare,
    maxFutureSkewMs = DEFAULT_MAX_FUTURE_SKEW_MS,
  }: IngestContext,
  handedOff: () => void,
  producer: string | undefined,
): Promise<IngestOutcome> {
  const reject = (reason: RejectionReason) => observer.rejected(protocol, reason);
  const overloaded = (error: IngestOverloadedError): IngestOutcome => {
    reject('overloaded');
    return overloadedOutcome(error);
  };

  // Refused before any work when the queue is full: under overload, decoding and redacting requests
  // only to refuse them takes the CPU and memory that commits need.
  try {
    sink.checkRoomFor?.(body.byteLength);
  } catch (error) {
    if (error instanceof IngestOverloadedError) return overloaded(error);
    throw error;
  }

  let prepared: PreparedSpans;
  try {
    // Asked again when a worker is free: the queue may have filled while the request waited.
    prepared = await (prepare ?? prepareInline(redactor))(body, format, limits, () =>
      sink.checkRoomFor?.(body.byteLength),
    );
  } catch (error) {
    if (error instanceof IngestOverloadedError) return overloaded(error);
    // A busy pool is overload; a worker that died leaves the data with the exporter, to retry.
    if (error instanceof PreparerBusyError) {
      reject('overloaded');
      return busyOutcome();
    }
    prepared = { ok: false, stage: 'redact' };
  }
  if (!prepared.ok && prepared.stage === 'decode') {
    reject(prepared.reason);
    return { ok: false, reason: prepared.reason, message: prepared.message };
  }
  if (!prepared.ok) {
    // Never store unredacted spans; a retryable answer keeps the data with the exporter.
    reject('storage_error');
    return {
      ok: false,
      reason: 'storage_error',
      message: 'the collector could not process the spans; retry later',
      retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS,
    };
  }
  if (prepared.redactedValues > 0) observer.redacted(prepared.redactedByRule);
  const timed = clampToArrival(prepared.spans, Date.now(), maxFutureSkewMs);
  if (timed.clamped > 0) observer.timesClamped?.(timed.clamped);
  // The producer is who authenticated the request, whatever its spans say (task ownership).
  const spans = timed.spans;
  if (producer !== undefined) for (const span of spans) span.producer = producer;

  if (spans.length > 0) {
    try {
      const committed = sink.accept(spans, body.byteLength);
      handedOff();
      await committed;
    } catch (error) {
      if (error instanceof IngestOverloadedError) return overloaded(error);
      // Nothing was acknowledged: a retryable answer lets the exporter try again instead of dropping.
      reject('storage_error');
      return {
        ok: false,
        reason: 'storage_error',
        message: 'the collector could not store the spans; retry later',
        retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS,
      };
    }
    observer.received(protocol, spans.length);
    try {
      onCommitted?.(spans);
    } catch {
      // The spans are committed; a failing downstream consumer must not turn that into an error answer.
    }
  }

  const partialSuccess =
    prepared.cutValues > 0
      ? {
          rejectedSpans: 0,
          errorMessage: `${prepared.cutValues} string value(s) were longer than ${limits.maxAttributeValueLength} characters and were truncated`,
        }
      : undefined;
  return { ok: true, spanCount: spans.length, ...(partialSuccess && { partialSuccess }) };
}
