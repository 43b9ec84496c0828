import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { otlpProtoTypes } from '../../../../collector/src/otlp/proto.js';

/** A valid OTLP/JSON request of `spanCount` spans in one new trace; `marker` lands in every span name. */
export const validJsonRequest = (marker: string, spanCount = 2) => {
  const traceId = randomBytes(16).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    traceId,
    request: {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hostile-input-check' } }] },
          scopeSpans: [
            {
              scope: { name: 'mcpscope-test' },
              spans: Array.from({ length: spanCount }, (_, index) => ({
                traceId,
                spanId: randomBytes(8).toString('hex'),
                name: `tools/call ${marker}-${index}`,
                kind: 2,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 1_000_000n),
                attributes: [
                  { key: 'mcp.method.name', value: { stringValue: 'tools/call' } },
                  { key: 'gen_ai.tool.name', value: { stringValue: marker } },
                  { key: 'retries', value: { intValue: '2' } },
                  { key: 'ratio', value: { doubleValue: 0.5 } },
                  {
                    key: 'tags',
                    value: { arrayValue: { values: [{ stringValue: 'a' }, { boolValue: true }] } },
                  },
                ],
                events: [{ name: 'exception', timeUnixNano: String(now), attributes: [] }],
                status: { code: 1 },
              })),
            },
          ],
        },
      ],
    },
  };
};

type JsonRequest = ReturnType<typeof validJsonRequest>['request'];

const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** The same request in protobuf: protobufjs takes bytes as base64 and 64-bit integers as strings. */
export const toProtobuf = (request: JsonRequest): Uint8Array => {
  const copy = structuredClone(request) as unknown as {
    resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string; spanId: string }> }> }>;
  };
  for (const resourceSpans of copy.resourceSpans) {
    for (const scopeSpans of resourceSpans.scopeSpans) {
      for (const span of scopeSpans.spans) {
        span.traceId = hexToBase64(span.traceId);
        span.spanId = hexToBase64(span.spanId);
      }
    }
  }
  const type = otlpProtoTypes().exportTraceServiceRequest;
  return type.encode(type.fromObject(copy)).finish();
};

const varint = (value: number): number[] => {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
};

const lengthDelimited = (field: number, payload: Uint8Array | number[]): Buffer => {
  const body = Buffer.from(payload);
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(body.length)]), body]);
};

/**
 * A request whose one span carries an attribute value nested `depth` levels deep
 * (AnyValue.array_value → ArrayValue.values → AnyValue …), written on the wire by hand.
 */
export const deeplyNestedProtobuf = (depth: number): Uint8Array => {
  // Every level is only a prefix (tag and length) before the leaf, so the body is built in one pass.
  const leaf = lengthDelimited(1, Buffer.from('leaf'));
  const prefixes: Buffer[] = [];
  let innerLength = leaf.length;
  for (let level = 0; level < depth; level += 1) {
    const arrayValueLength = 1 + varint(innerLength).length + innerLength;
    const anyValuePrefix = Buffer.from([
      (5 << 3) | 2,
      ...varint(arrayValueLength),
      (1 << 3) | 2,
      ...varint(innerLength),
    ]);
    prefixes.push(anyValuePrefix);
    innerLength += anyValuePrefix.length;
  }
  const anyValue = Buffer.concat([...prefixes.reverse(), leaf]);
  const keyValue = Buffer.concat([lengthDelimited(1, Buffer.from('nested')), lengthDelimited(2, anyValue)]);
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE(BigInt(Date.now()) * 1_000_000n);
  const span = Buffer.concat([
    lengthDelimited(1, randomBytes(16)),
    lengthDelimited(2, randomBytes(8)),
    lengthDelimited(5, Buffer.from('deep')),
    Buffer.from([(7 << 3) | 1]),
    time,
    Buffer.from([(8 << 3) | 1]),
    time,
    lengthDelimited(9, keyValue),
  ]);
  return lengthDelimited(1, lengthDelimited(2, lengthDelimited(2, span)));
};

/** The same in OTLP/JSON, as text (a JSON.stringify of it would itself recurse too deeply). */
export const deeplyNestedJson = (depth: number): string => {
  const open = '{"arrayValue":{"values":['.repeat(depth);
  const close = ']}}'.repeat(depth);
  const { request } = validJsonRequest('deep', 1);
  const text = JSON.stringify(request);
  return text.replace('{"stringValue":"tools/call"}', `${open}{"stringValue":"x"}${close}`);
};

/** A length prefix claiming far more bytes than follow. */
export const hugeLengthPrefix = (claimed: number): Uint8Array =>
  Buffer.from([0x0a, ...varint(claimed), 0x12, 0x00]);

/** A valid protobuf request whose span name bytes are replaced by invalid UTF-8. */
export const invalidUtf8Protobuf = (): Uint8Array => {
  const { request } = validJsonRequest('UTF8HOLE', 1);
  const body = Buffer.from(toProtobuf(request));
  const at = body.indexOf('UTF8HOLE');
  Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf8]).copy(body, at);
  return body;
};

export const invalidUtf8Json = (): Uint8Array => {
  const { request } = validJsonRequest('UTF8HOLE', 1);
  const body = Buffer.from(JSON.stringify(request));
  const at = body.indexOf('UTF8HOLE');
  Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf8]).copy(body, at);
  return body;
};

/** `megabytes` of zeros, gzipped: a few kilobytes on the wire. */
export const gzipBomb = (megabytes: number): Uint8Array =>
  gzipSync(Buffer.alloc(megabytes * 1024 * 1024), { level: 1 });

/** Many empty spans, more than any request may hold; small on the wire. */
export const hugeSpanCountJson = (count: number): string =>
  `{"resourceSpans":[{"scopeSpans":[{"spans":[${Array(count).fill('{}').join(',')}]}]}]}`;

export const hugeSpanCountProtobuf = (count: number): Uint8Array => {
  const emptySpan = lengthDelimited(2, []);
  return lengthDelimited(1, lengthDelimited(2, Buffer.concat(Array(count).fill(emptySpan))));
};

// ---- fast-check arbitraries ----

const seedProtobuf = () => toProtobuf(validJsonRequest('seed', 3).request);

/** A valid protobuf body, then broken: truncated, bit-flipped, spliced, or replaced by noise. */
export const mutatedProtobuf = (): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.nat().map((cut) => {
      const body = seedProtobuf();
      return body.subarray(0, cut % body.length);
    }),
    fc
      .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 12 })
      .map((flips) => {
        const body = Buffer.from(seedProtobuf());
        for (const [position, bit] of flips) body[position % body.length]! ^= 1 << bit;
        return body;
      }),
    fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([position, insert]) => {
      const body = Buffer.from(seedProtobuf());
      const at = position % body.length;
      return Buffer.concat([body.subarray(0, at), insert, body.subarray(at)]);
    }),
    fc.uint8Array({ maxLength: 4096 }),
    fc.integer({ min: 1_000, max: 0x7fffffff }).map(hugeLengthPrefix),
  );

const pathsOf = (value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []) => {
  out.push(path);
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value))
      pathsOf(child, [...path, Array.isArray(value) ? Number(key) : key], out);
  }
  return out;
};

/** A valid OTLP/JSON request with one node replaced by a value of another type, or its text cut short. */
export const mutatedJson = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.tuple(fc.nat(), fc.jsonValue()).map(([pick, replacement]) => {
      const { request } = validJsonRequest('mutant', 2);
      const paths = pathsOf(request).filter((path) => path.length > 0);
      const path = paths[pick % paths.length]!;
      let parent = request as unknown as Record<string | number, unknown>;
      for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
      parent[path.at(-1)!] = replacement;
      return JSON.stringify(request);
    }),
    fc.nat().map((cut) => {
      const text = JSON.stringify(validJsonRequest('cut', 2).request);
      return text.slice(0, cut % text.length);
    }),
    fc.constantFrom(
      '1e400',
      '"just a string"',
      '[]',
      'null',
      '{"resourceSpans":{}}',
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"00"}]}]}]}',
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"-1"}]}]}]}',
      '{"__proto__":{"polluted":true},"resourceSpans":[]}',
      '{"constructor":{"prototype":{"polluted":true}}}',
    ),
    fc.string({ maxLength: 512 }),
  );
