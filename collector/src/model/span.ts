/**
 * The collector's one in-memory form of a span: what OTLP decoding produces (from protobuf or JSON,
 * gRPC or HTTP), what redaction rewrites, what storage appends and rollups read.
 */

/** An OTLP AnyValue in plain JSON form. int64 beyond 2^53 is kept as a decimal string; bytes as base64. */
export type AttributeValue =
  string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

export type Attributes = Record<string, AttributeValue>;

export type SpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type SpanStatusCode = 'unset' | 'ok' | 'error';

export interface SpanEventRecord {
  name: string;
  timeUnixNano: bigint;
  attributes: Attributes;
}

export interface SpanLinkRecord {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

export interface SpanRecord {
  /** 32 lowercase hex characters, never all zero. */
  traceId: string;
  /** 16 lowercase hex characters, never all zero. */
  spanId: string;
  /** 16 lowercase hex characters, or null for a root span. */
  parentSpanId: string | null;
  name: string;
  kind: SpanKind;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  statusCode: SpanStatusCode;
  statusMessage: string;
  /** `service.name` of the resource, or `unknown_service` when absent. */
  serviceName: string;
  scopeName: string;
  attributes: Attributes;
  resourceAttributes: Attributes;
  events: SpanEventRecord[];
  links: SpanLinkRecord[];
  /**
   * Who sent the span: the authenticated identity of its request, set by the receivers and never
   * read from the span. Absent without authentication (one identity for all) and for spans the
   * collector writes itself; not stored as a column.
   */
  producer?: string;
}

/**
 * Where decoded, redacted spans go. `accept` resolves only after the spans are durably committed;
 * it rejects with {@link IngestOverloadedError} when the queue is full (the receiver answers with a
 * retryable status) and with other errors when storage fails (a retryable status too: nothing was
 * acknowledged).
 */
export interface SpanSink {
  /** `bytes`: the size of the request the spans came from, as decoded, for a bound on memory. */
  accept(spans: SpanRecord[], bytes?: number): Promise<void>;
  /**
   * Throws {@link IngestOverloadedError} when a request of `bytes` would be refused now: asked before
   * decoding, so a full collector spends no decoding or redaction on a request it cannot take.
   */
  checkRoomFor?(bytes: number): void;
}

export class IngestOverloadedError extends Error {
  override readonly name = 'IngestOverloadedError';
  constructor(readonly retryAfterSeconds: number) {
    super(`ingest queue is full; retry after ${retryAfterSeconds}s`);
  }
}
