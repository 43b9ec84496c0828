import { ATTR_SERVICE_NAME } from '@mcpscope/instrumentation/conventions';
import type { SpanEventRecord, SpanLinkRecord, SpanRecord } from '../model/span.js';
import protobuf from 'protobufjs';
import { OtlpDecodeError } from './errors.js';
import { resolveOtlpLimits, type OtlpLimits } from './limits.js';
import { otlpProtoTypes } from './proto.js';
import {
  asList,
  readAttributes,
  readParentSpanId,
  readRequiredId,
  readSpanKind,
  readStatusCode,
  readString,
  readUnixNano,
  type ReadNotes,
} from './values.js';

export interface DecodedTraceRequest {
  spans: SpanRecord[];
  /** Strings cut to `maxAttributeValueLength`; reported back to the sender as a warning. */
  truncatedValues: number;
}

const UNKNOWN_SERVICE = 'unknown_service';

type Fields = Record<string, unknown>;

function asFields(value: unknown, field: string): Fields {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new OtlpDecodeError('invalid', `${field} must be an object`);
  return value as Fields;
}

/**
 * Turns an `ExportTraceServiceRequest` (as protobufjs decodes it, or as OTLP/JSON parses) into span
 * records, checking every id, time and bound. The whole request is refused on the first violation,
 * so a sender never sees half of a batch stored.
 */
function toSpanRecords(request: unknown, limits: OtlpLimits): DecodedTraceRequest {
  const notes: ReadNotes = { truncatedValues: 0 };
  const spans: SpanRecord[] = [];
  const resourceSpansList = asList(asFields(request, 'request').resourceSpans, 'resourceSpans');

  // Count first: a request over the span limit is refused before any per-span work.
  let spanCount = 0;
  for (const resourceSpans of resourceSpansList) {
    for (const scopeSpans of asList(asFields(resourceSpans, 'resourceSpans').scopeSpans, 'scopeSpans')) {
      spanCount += asList(asFields(scopeSpans, 'scopeSpans').spans, 'spans').length;
    }
  }
  if (spanCount > limits.maxSpansPerRequest) {
    throw new OtlpDecodeError(
      'limit_exceeded',
      `request holds ${spanCount} spans; at most ${limits.maxSpansPerRequest} are accepted per request`,
    );
  }

  for (const resourceSpans of resourceSpansList) {
    const resourceFields = asFields(resourceSpans, 'resourceSpans');
    const resource = asFields(resourceFields.resource, 'resource');
    const resourceAttributes = readAttributes(resource.attributes, 'resource.attributes', limits, notes);
    const serviceNameValue = resourceAttributes[ATTR_SERVICE_NAME];
    const serviceName =
      typeof serviceNameValue === 'string' && serviceNameValue !== '' ? serviceNameValue : UNKNOWN_SERVICE;

    for (const scopeSpans of asList(resourceFields.scopeSpans, 'scopeSpans')) {
      const scopeFields = asFields(scopeSpans, 'scopeSpans');
      const scopeName = readString(asFields(scopeFields.scope, 'scope').name, 'scope.name', limits, notes);

      for (const span of asList(scopeFields.spans, 'spans')) {
        const fields = asFields(span, 'span');
        const traceId = readRequiredId(fields.traceId, 16, 'traceId');
        const spanId = readRequiredId(fields.spanId, 8, 'spanId');
        const startTimeUnixNano = readUnixNano(fields.startTimeUnixNano, 'startTimeUnixNano');
        const endTimeUnixNano = readUnixNano(fields.endTimeUnixNano, 'endTimeUnixNano');
        if (startTimeUnixNano === 0n)
          throw new OtlpDecodeError('invalid', 'span startTimeUnixNano is missing');
        if (endTimeUnixNano < startTimeUnixNano) {
          throw new OtlpDecodeError('invalid', 'span endTimeUnixNano is before startTimeUnixNano');
        }
        const status = asFields(fields.status, 'status');

        spans.push({
          traceId,
          spanId,
          parentSpanId: readParentSpanId(fields.parentSpanId),
          name: readString(fields.name, 'span name', limits, notes),
          kind: readSpanKind(fields.kind),
          startTimeUnixNano,
          endTimeUnixNano,
          statusCode: readStatusCode(status.code),
          statusMessage: readString(status.message, 'status message', limits, notes),
          serviceName,
          scopeName,
          attributes: readAttributes(fields.attributes, 'span attributes', limits, notes),
          resourceAttributes,
          events: asList(fields.events, 'events').map((event): SpanEventRecord => {
            const eventFields = asFields(event, 'event');
            return {
              name: readString(eventFields.name, 'event name', limits, notes),
              timeUnixNano: readUnixNano(eventFields.timeUnixNano, 'event timeUnixNano'),
              attributes: readAttributes(eventFields.attributes, 'event attributes', limits, notes),
            };
          }),
          links: asList(fields.links, 'links').map((link): SpanLinkRecord => {
            const linkFields = asFields(link, 'link');
            return {
              traceId: readRequiredId(linkFields.traceId, 16, 'link traceId'),
              spanId: readRequiredId(linkFields.spanId, 8, 'link spanId'),
              attributes: readAttributes(linkFields.attributes, 'link attributes', limits, notes),
            };
          }),
        });
      }
    }
  }
  return { spans, truncatedValues: notes.truncatedValues };
}

// Field numbers on the path ExportTraceServiceRequest.resource_spans[].scope_spans[].spans[].
const RESOURCE_SPANS_FIELD = 1;
const SCOPE_SPANS_FIELD = 2;
const SPANS_FIELD = 2;
const LENGTH_DELIMITED = 2;

/**
 * Counts the spans of a protobuf request from its wire format alone, skipping their contents, so a
 * body of millions of empty spans is refused in milliseconds instead of after decoding them all.
 * Undefined when the bytes are not well-formed (the full decode then says why).
 */
const countProtobufSpans = (body: Uint8Array): number | undefined => {
  const lengthDelimited = (
    bytes: Uint8Array,
    field: number,
    each: (inner: Uint8Array) => boolean,
  ): boolean => {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === field && (tag & 7) === LENGTH_DELIMITED) {
        if (!each(reader.bytes())) return false;
      } else {
        reader.skipType(tag & 7);
      }
    }
    return true;
  };
  let count = 0;
  try {
    lengthDelimited(body, RESOURCE_SPANS_FIELD, (resourceSpans) =>
      lengthDelimited(resourceSpans, SCOPE_SPANS_FIELD, (scopeSpans) =>
        lengthDelimited(scopeSpans, SPANS_FIELD, () => {
          count += 1;
          return true;
        }),
      ),
    );
    return count;
  } catch {
    return undefined;
  }
};

/** Decodes a binary protobuf `ExportTraceServiceRequest`. */
export function decodeTraceRequestProtobuf(
  body: Uint8Array,
  limits: Partial<OtlpLimits> = {},
): DecodedTraceRequest {
  const resolved = resolveOtlpLimits(limits);
  const counted = countProtobufSpans(body);
  if (counted !== undefined && counted > resolved.maxSpansPerRequest) {
    throw new OtlpDecodeError(
      'limit_exceeded',
      `request holds ${counted} spans; at most ${resolved.maxSpansPerRequest} are accepted per request`,
    );
  }
  let request: unknown;
  try {
    request = otlpProtoTypes().exportTraceServiceRequest.decode(body);
  } catch {
    // protobufjs messages can quote offsets and wire types only, but a fixed text is simpler to trust.
    throw new OtlpDecodeError('malformed', 'body is not a valid protobuf ExportTraceServiceRequest');
  }
  return toSpanRecords(request, resolved);
}

/** Decodes an OTLP/JSON `ExportTraceServiceRequest` (hex ids, integer or named enums, int64 as strings or numbers). */
export function decodeTraceRequestJson(
  body: string | Uint8Array,
  limits: Partial<OtlpLimits> = {},
): DecodedTraceRequest {
  const text =
    typeof body === 'string'
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch {
    throw new OtlpDecodeError('malformed', 'body is not valid JSON');
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new OtlpDecodeError('malformed', 'body must be a JSON object (ExportTraceServiceRequest)');
  }
  return toSpanRecords(request, resolveOtlpLimits(limits));
}
