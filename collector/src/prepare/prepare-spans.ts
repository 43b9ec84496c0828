import type { SpanRecord } from '../model/span.js';
import { decodeTraceRequestJson, decodeTraceRequestProtobuf } from '../otlp/decode.js';
import { OtlpDecodeError } from '../otlp/errors.js';
import type { OtlpLimits } from '../otlp/limits.js';
import { cutLongStrings } from '../redact/cut-long-strings.js';
import { redactSpans } from '../redact/redact-spans.js';
import type { SpanRedactor } from '../redact/types.js';

export type TraceRequestFormat = 'protobuf' | 'json';

/**
 * A request's spans ready for the ingest queue: decoded, validated, redacted and cut, or why not.
 * Plain data, so a worker thread can hand it to the main thread as it is.
 */
export type PreparedSpans =
  | {
      ok: true;
      spans: SpanRecord[];
      redactedValues: number;
      redactedByRule: Record<string, number>;
      cutValues: number;
    }
  | { ok: false; stage: 'decode'; reason: OtlpDecodeError['reason']; message: string }
  | { ok: false; stage: 'redact' };

/**
 * Decodes, redacts and cuts one trace export on the calling thread. Anything the decoder throws was
 * caused by the input; anything redaction throws keeps the spans out of storage.
 */
export function prepareSpans(
  body: Uint8Array,
  format: TraceRequestFormat,
  limits: OtlpLimits,
  redactor: SpanRedactor,
): PreparedSpans {
  let decoded: SpanRecord[];
  try {
    decoded = (format === 'protobuf' ? decodeTraceRequestProtobuf : decodeTraceRequestJson)(
      body,
      limits,
    ).spans;
  } catch (error) {
    const refusal =
      error instanceof OtlpDecodeError
        ? error
        : new OtlpDecodeError('malformed', 'body could not be decoded as an ExportTraceServiceRequest');
    return { ok: false, stage: 'decode', reason: refusal.reason, message: refusal.message };
  }
  try {
    const redacted = redactSpans(decoded, redactor);
    // Cut after redaction, never before: the rules saw every value whole.
    const cut = cutLongStrings(redacted.spans, limits.maxAttributeValueLength);
    return {
      ok: true,
      spans: cut.spans,
      redactedValues: redacted.count,
      redactedByRule: redacted.byRule,
      cutValues: cut.cutValues,
    };
  } catch {
    return { ok: false, stage: 'redact' };
  }
}

/**
 * Prepares a request's spans somewhere: on this thread or in a worker thread. `beforeStart` is asked
 * right before the work starts, after any wait for a worker; what it throws is what the promise
 * rejects with (e.g. the queue filled up meanwhile: no point decoding a request it would refuse).
 */
export type SpanPreparer = (
  body: Uint8Array,
  format: TraceRequestFormat,
  limits: OtlpLimits,
  beforeStart?: () => void,
) => Promise<PreparedSpans>;

/** Thrown by a preparer that has no room for another request; the exporter is asked to retry. */
export class PreparerBusyError extends Error {
  override readonly name = 'PreparerBusyError';
}
