import type { AttributeValue, Attributes, SpanKind, SpanRecord, SpanStatusCode } from '../model/span.js';
import { otlpProtoTypes } from './proto.js';

export type OtlpFormat = 'protobuf' | 'json';

export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/**
 * The body of a successful export answer. `partialSuccess` carries rejected spans or, with zero
 * rejected, a warning for the sender (the OTLP spec allows both).
 */
export function encodeExportTraceResponse(format: 'protobuf', partialSuccess?: PartialSuccess): Uint8Array;
export function encodeExportTraceResponse(format: 'json', partialSuccess?: PartialSuccess): string;
export function encodeExportTraceResponse(
  format: OtlpFormat,
  partialSuccess?: PartialSuccess,
): Uint8Array | string;
export function encodeExportTraceResponse(
  format: OtlpFormat,
  partialSuccess?: PartialSuccess,
): Uint8Array | string {
  if (format === 'json') return JSON.stringify(partialSuccess ? { partialSuccess } : {});
  const { exportTraceServiceResponse } = otlpProtoTypes();
  return exportTraceServiceResponse
    .encode(exportTraceServiceResponse.fromObject(partialSuccess ? { partialSuccess } : {}))
    .finish();
}

/** gRPC status codes used in OTLP answers (`google.rpc.Code`). */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
  UNIMPLEMENTED: 12,
} as const;

const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * A `google.rpc.Status`: the error body of OTLP/HTTP protobuf answers and the detail of gRPC
 * errors. With `retryAfterSeconds` it carries a `RetryInfo`, the OTLP throttling signal.
 */
export function encodeRpcStatus(code: number, message: string, retryAfterSeconds?: number): Uint8Array {
  const { rpcStatus, retryInfo } = otlpProtoTypes();
  const details =
    retryAfterSeconds === undefined
      ? []
      : [
          {
            type_url: RETRY_INFO_TYPE_URL,
            value: retryInfo
              .encode(retryInfo.fromObject({ retryDelay: { seconds: Math.ceil(retryAfterSeconds) } }))
              .finish(),
          },
        ];
  return rpcStatus.encode(rpcStatus.fromObject({ code, message, details })).finish();
}

const KIND_NUMBERS: Record<SpanKind, number> = {
  unspecified: 0,
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
};
const STATUS_NUMBERS: Record<SpanStatusCode, number> = { unset: 0, ok: 1, error: 2 };

/** protobufjs writes 64-bit fields from `{ low, high }` without needing BigInt support. */
const toLongBits = (value: bigint) => ({
  low: Number(BigInt.asUintN(32, value)) | 0,
  high: Number(BigInt.asUintN(32, value >> 32n)) | 0,
  unsigned: true,
});

const idBytes = (hex: string): Buffer => Buffer.from(hex, 'hex');

/**
 * The reverse of decoding, for forwarding. Lossy where the record is: an integral double becomes an
 * int, an int64 kept as a decimal string and bytes kept as base64 become strings.
 */
function toAnyValue(value: AttributeValue): object {
  if (value === null) return {};
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number')
    return Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(toAnyValue) } };
  return { kvlistValue: { values: toKeyValues(value) } };
}

const toKeyValues = (attributes: Attributes) =>
  Object.entries(attributes).map(([key, value]) => ({ key, value: toAnyValue(value) }));

/** Encodes span records as one protobuf `ExportTraceServiceRequest`, grouped by resource and scope. */
export function encodeTraceRequest(spans: readonly SpanRecord[]): Uint8Array {
  const resources = new Map<string, { resourceAttributes: Attributes; scopes: Map<string, SpanRecord[]> }>();
  for (const span of spans) {
    const resourceKey = JSON.stringify(span.resourceAttributes);
    let resource = resources.get(resourceKey);
    if (!resource) {
      resource = { resourceAttributes: span.resourceAttributes, scopes: new Map() };
      resources.set(resourceKey, resource);
    }
    const scope = resource.scopes.get(span.scopeName);
    if (scope) scope.push(span);
    else resource.scopes.set(span.scopeName, [span]);
  }
  const request = {
    resourceSpans: [...resources.values()].map(({ resourceAttributes, scopes }) => ({
      resource: { attributes: toKeyValues(resourceAttributes) },
      scopeSpans: [...scopes.entries()].map(([scopeName, scopeSpans]) => ({
        scope: { name: scopeName },
        spans: scopeSpans.map((span) => ({
          traceId: idBytes(span.traceId),
          spanId: idBytes(span.spanId),
          parentSpanId: span.parentSpanId === null ? undefined : idBytes(span.parentSpanId),
          name: span.name,
          kind: KIND_NUMBERS[span.kind],
          startTimeUnixNano: toLongBits(span.startTimeUnixNano),
          endTimeUnixNano: toLongBits(span.endTimeUnixNano),
          attributes: toKeyValues(span.attributes),
          events: span.events.map((event) => ({
            name: event.name,
            timeUnixNano: toLongBits(event.timeUnixNano),
            attributes: toKeyValues(event.attributes),
          })),
          links: span.links.map((link) => ({
            traceId: idBytes(link.traceId),
            spanId: idBytes(link.spanId),
            attributes: toKeyValues(link.attributes),
          })),
          status: { code: STATUS_NUMBERS[span.statusCode], message: span.statusMessage },
        })),
      })),
    })),
  };
  const { exportTraceServiceRequest } = otlpProtoTypes();
  // `create`, not `fromObject`: the values are already in wire shape and fromObject would reparse them.
  return exportTraceServiceRequest.encode(exportTraceServiceRequest.create(request)).finish();
}
