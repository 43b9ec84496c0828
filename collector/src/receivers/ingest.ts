import { clampToArrival } from '../guards/span-times.js';
import type { IngestObserver, IngestProtocol, RejectionReason } from '../model/ingest-events.js';
import { IngestOverloadedError, type SpanRecord, type SpanSink } from '../model/span.js';
import {
  decodeTraceRequestJson,
  decodeTraceRequestProtobuf,
  type DecodedTraceRequest,
} from '../otlp/decode.js';
import type { PartialSuccess } from '../otlp/encode.js';
import { OtlpDecodeError } from '../otlp/errors.js';
import type { OtlpLimits } from '../otlp/limits.js';
import type { WorkReservation } from '../pipeline/work-budget.js';
import { cutLongStrings } from '../redact/cut-long-strings.js';
import { redactSpans } from '../redact/redact-spans.js';
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
}

/** Producer clocks may run this far ahead before their times are clamped to arrival. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;

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

  let decoded: DecodedTraceRequest;
  try {
    decoded =
      format === 'protobuf' ? decodeTraceRequestProtobuf(body, limits) : decodeTraceRequestJson(body, limits);
  } catch (error) {
    // Anything the decoder throws was caused by the input: refuse it rather than fail the server.
    const refusal =
      error instanceof OtlpDecodeError
        ? error
        : new OtlpDecodeError('malformed', 'body could not be decoded as an ExportTraceServiceRequest');
    reject(refusal.reason);
    return { ok: false, reason: refusal.reason, message: refusal.message };
  }

  let redacted: ReturnType<typeof redactSpans>;
  let cutValues: number;
  try {
    redacted = redactSpans(decoded.spans, redactor);
    // Cut after redaction, never before: the rules saw every value whole.
    const cut = cutLongStrings(redacted.spans, limits.maxAttributeValueLength);
    redacted = { ...redacted, spans: cut.spans };
    cutValues = cut.cutValues;
  } catch {
    // Never store unredacted spans; a retryable answer keeps the data with the exporter.
    reject('storage_error');
    return {
      ok: false,
      reason: 'storage_error',
      message: 'the collector could not process the spans; retry later',
      retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS,
    };
  }
  if (redacted.count > 0) observer.redacted(redacted.byRule);
  const timed = clampToArrival(redacted.spans, Date.now(), maxFutureSkewMs);
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
    cutValues > 0
      ? {
          rejectedSpans: 0,
          errorMessage: `${cutValues} string value(s) were longer than ${limits.maxAttributeValueLength} characters and were truncated`,
        }
      : undefined;
  return { ok: true, spanCount: spans.length, ...(partialSuccess && { partialSuccess }) };
}
