import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../model/span.js';
import { decodeTraceRequestJson, decodeTraceRequestProtobuf } from './decode.js';
import { encodeExportTraceResponse, encodeTraceRequest } from './encode.js';
import { OtlpDecodeError } from './errors.js';
import { otlpProtoTypes } from './proto.js';

const TRACE_ID = '5B8EFFF798038103D269B633813FC60C';

const request = (span: Record<string, unknown>) => ({
  resourceSpans: [
    {
      resource: { attributes: [] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: TRACE_ID,
              spanId: 'EEE19B7EC3C1B174',
              parentSpanId: '',
              name: 'n',
              startTimeUnixNano: 1_700_000_000_000_000_000,
              endTimeUnixNano: '1700000000000000001',
              ...span,
            },
          ],
        },
      ],
    },
  ],
});

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof OtlpDecodeError) return { reason: error.reason, message: error.message };
    throw error;
  }
  throw new Error('expected the request to be refused');
};

describe('decodeTraceRequestJson', () => {
  it('reads OTLP/JSON as the spec writes it: hex ids, enum numbers or names, int64 strings or numbers', () => {
    const { spans } = decodeTraceRequestJson(
      JSON.stringify(
        request({
          kind: 'SPAN_KIND_CLIENT',
          status: { code: 2, message: 'boom' },
          attributes: [
            { key: 'int', value: { intValue: '42' } },
            { key: 'huge', value: { intValue: '9223372036854775807' } },
            { key: 'negative', value: { intValue: -7 } },
            { key: 'double', value: { doubleValue: 0.5 } },
            { key: 'nan', value: { doubleValue: 'NaN' } },
            { key: 'bool', value: { boolValue: false } },
            { key: 'bytes', value: { bytesValue: 'AQID' } },
            { key: 'empty', value: {} },
            { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }] } } },
            {
              key: 'map',
              value: { kvlistValue: { values: [{ key: 'inner', value: { boolValue: true } }] } },
            },
            { key: '__proto__', value: { stringValue: 'plain key' } },
          ],
        }),
      ),
    );
    const [span] = spans as [SpanRecord];
    expect(span.traceId).toBe(TRACE_ID.toLowerCase());
    expect(span.parentSpanId).toBeNull();
    expect(span.kind).toBe('client');
    expect(span.statusCode).toBe('error');
    expect(span.statusMessage).toBe('boom');
    expect(span.startTimeUnixNano).toBe(1_700_000_000_000_000_000n);
    expect(span.endTimeUnixNano).toBe(1_700_000_000_000_000_001n);
    expect(span.serviceName).toBe('unknown_service');
    expect({ ...span.attributes }).toEqual({
      int: 42,
      huge: '9223372036854775807',
      negative: -7,
      double: 0.5,
      nan: NaN,
      bool: false,
      bytes: 'AQID',
      empty: null,
      list: ['a', 1],
      map: { inner: true },
      ['__proto__']: 'plain key',
    });
    expect(Object.getPrototypeOf({}).polluted).toBeUndefined();
  });

  it.each([
    ['an unknown kind', { kind: 'SPAN_KIND_SIDEWAYS' }, 'span kind is not a known value'],
    ['a status code out of range', { status: { code: 9 } }, 'status code is not a known value'],
    ['a fractional time', { startTimeUnixNano: '1.5' }, 'startTimeUnixNano is not a 64-bit integer'],
    ['a base64 span id', { spanId: '7uGbfsPBsXQ=' }, 'spanId must be 16 hexadecimal characters'],
    ['a missing start time', { startTimeUnixNano: undefined }, 'span startTimeUnixNano is missing'],
    [
      'an end time past what 64-bit signed nanoseconds hold',
      { endTimeUnixNano: '18446744073709551615' },
      'endTimeUnixNano is out of range',
    ],
    ['attributes that are not a list', { attributes: { key: 'x' } }, 'span attributes must be a list'],
  ])('refuses %s without echoing content', (_what, span, message) => {
    expect(refusal(() => decodeTraceRequestJson(JSON.stringify(request(span))))).toEqual({
      reason: 'invalid',
      message,
    });
  });

  it('refuses a body that is JSON but not an object', () => {
    expect(refusal(() => decodeTraceRequestJson('[1,2]'))).toEqual({
      reason: 'malformed',
      message: 'body must be a JSON object (ExportTraceServiceRequest)',
    });
  });
});

describe('protobuf encode and decode', () => {
  it('round-trips span records through the vendored protos', () => {
    const record: SpanRecord = {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: '0102030405060708',
      name: 'tools/call plan',
      kind: 'consumer',
      startTimeUnixNano: 1_700_000_000_123_456_789n,
      // The largest time a signed 64-bit column stores: far past 2^53, so any rounding would show.
      endTimeUnixNano: 9_223_372_036_854_775_807n,
      statusCode: 'ok',
      statusMessage: '',
      serviceName: 'svc',
      scopeName: 'scope',
      attributes: { s: 'x', i: -3, d: 1.25, b: true, a: [1, 'two'], m: { k: [false] } },
      resourceAttributes: { 'service.name': 'svc' },
      events: [{ name: 'e', timeUnixNano: 5n, attributes: { n: 1 } }],
      links: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: {} }],
    };
    const { spans } = decodeTraceRequestProtobuf(encodeTraceRequest([record]));
    expect(spans).toHaveLength(1);
    expect({ ...spans[0]!, attributes: { ...spans[0]!.attributes } }).toEqual(record);
  });

  it('refuses bytes that are not an ExportTraceServiceRequest', () => {
    expect(refusal(() => decodeTraceRequestProtobuf(Buffer.from('not protobuf at all, just text')))).toEqual({
      reason: 'malformed',
      message: 'body is not a valid protobuf ExportTraceServiceRequest',
    });
  });

  it('encodes partial success in both formats', () => {
    const partialSuccess = { rejectedSpans: 0, errorMessage: 'truncated' };
    expect(JSON.parse(encodeExportTraceResponse('json', partialSuccess))).toEqual({ partialSuccess });
    const { exportTraceServiceResponse: type } = otlpProtoTypes();
    expect(
      type.toObject(type.decode(encodeExportTraceResponse('protobuf', partialSuccess)), { longs: Number }),
    ).toEqual({
      partialSuccess,
    });
    expect(encodeExportTraceResponse('protobuf')).toHaveLength(0);
  });
});
