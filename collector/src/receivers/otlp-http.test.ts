import { gzipSync, createGzip } from 'node:zlib';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { createRedactor } from '@mcpscope/instrumentation/redaction';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../auth/authenticator.js';
import { IngestOverloadedError } from '../model/span.js';
import { encodeTraceRequest } from '../otlp/encode.js';
import { otlpProtoTypes } from '../otlp/proto.js';
import { makeSpan } from '../pipeline/test-support/spans.js';
import { otlpHttpRoutes } from './otlp-http.js';
import {
  ANTHROPIC_KEY,
  AWS_ACCESS_KEY_ID,
  expectedRecord,
  exportSpans,
  ExportResultCode,
  GITHUB_TOKEN,
  listen,
  makeSampleSpans,
  recordingObserver,
  recordingSink,
  withRedactedSecrets,
} from './test-support/otlp-fixtures.js';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';

/** A minimal OTLP/JSON request; `span` overrides fields of its one span. */
const jsonRequest = (span: Record<string, unknown> = {}, spanCount = 1) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-svc' } }] },
      scopeSpans: [
        {
          scope: { name: 'hand-written' },
          spans: Array.from({ length: spanCount }, (_, index) => ({
            traceId: TRACE_ID,
            spanId: (index + 1).toString(16).padStart(16, '0'),
            name: 'tools/call search',
            kind: 'SPAN_KIND_SERVER',
            startTimeUnixNano: '1700000000000000000',
            endTimeUnixNano: '1700000000250000000',
            ...span,
          })),
        },
      ],
    },
  ],
});

let spans: ReadableSpan[];
beforeAll(async () => {
  spans = await makeSampleSpans();
});

describe('OTLP/HTTP receiver with the real OpenTelemetry exporters', () => {
  const sink = recordingSink();
  const { observer, events } = recordingObserver();
  let server: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    server = await listen(
      otlpHttpRoutes({ sink, redactor: createRedactor({ maxStringLength: 64 * 1024 }), observer }),
    );
  });
  afterAll(() => server.close());

  for (const [name, makeExporter] of [
    ['http/json', () => new OtlpHttpJsonExporter({ url: `${server.url}/v1/traces` })],
    ['http/protobuf', () => new OtlpProtoExporter({ url: `${server.url}/v1/traces` })],
    [
      'http/protobuf with gzip',
      () => new OtlpProtoExporter({ url: `${server.url}/v1/traces`, compression: 'gzip' as never }),
    ],
    [
      'http/json with gzip',
      () => new OtlpHttpJsonExporter({ url: `${server.url}/v1/traces`, compression: 'gzip' as never }),
    ],
  ] as const) {
    it(`keeps ids, kinds, times, status, attributes, events, links and resource exactly over ${name}`, async () => {
      sink.spans.length = 0;
      const exporter = makeExporter();
      const result = await exportSpans(exporter, spans);
      await exporter.shutdown();

      expect(result.code).toBe(ExportResultCode.SUCCESS);
      const byId = new Map(sink.spans.map((span) => [span.spanId, span]));
      expect(byId.size).toBe(spans.length);
      for (const span of spans) {
        expect(byId.get(span.spanContext().spanId)).toEqual(withRedactedSecrets(expectedRecord(span)));
      }
    });
  }

  it('redacts secrets in span, event and resource attributes before the sink sees them', () => {
    const stored = JSON.stringify(sink.spans, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    for (const secret of [GITHUB_TOKEN, AWS_ACCESS_KEY_ID, ANTHROPIC_KEY])
      expect(stored).not.toContain(secret);
    const call = sink.spans.find((span) => span.kind === 'client')!;
    expect(call.attributes['mcpscope.sample.note']).toBe('deploy with [REDACTED:github_token]');
    expect(call.events[0]!.attributes['exception.message']).toBe(
      'upstream refused key [REDACTED:anthropic_api_key]',
    );
    expect(call.resourceAttributes['deployment.note']).toBe('rotated [REDACTED:aws_access_key_id]');
    expect(events.redacted.at(-1)).toMatchObject({
      github_token: 2,
      anthropic_api_key: 1,
      aws_access_key_id: 1,
    });
    expect(events.received.map(([protocol]) => protocol)).toEqual([
      'http_json',
      'http_protobuf',
      'http_protobuf',
      'http_json',
    ]);
  });

  it('answers /v1/metrics and /v1/logs with a valid empty response in the request format', async () => {
    const json = await fetch(`${server.url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceMetrics: [] }),
    });
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual({});
    const protobuf = await fetch(`${server.url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array(0),
    });
    expect(protobuf.status).toBe(200);
    expect(protobuf.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await protobuf.arrayBuffer()).byteLength).toBe(0);
  });
});

describe('OTLP/HTTP receiver facing bad input', () => {
  const sink = recordingSink();
  const { observer, events } = recordingObserver();
  const limits = {
    maxBodyBytes: 1024 * 1024,
    maxDecompressedBytes: 4 * 1024 * 1024,
    maxSpansPerRequest: 100,
  };
  let server: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    server = await listen(
      otlpHttpRoutes({ sink, redactor: createRedactor({ maxStringLength: 64 * 1024 }), observer, limits }),
    );
  });
  afterAll(() => server.close());

  const post = (body: string | Uint8Array, headers: Record<string, string>) =>
    fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
  const postJson = (body: unknown) => post(JSON.stringify(body), { 'content-type': 'application/json' });

  /** After every refusal the receiver must still take a valid request. */
  const expectStillServing = async () => {
    const before = sink.spans.length;
    const response = await postJson(jsonRequest());
    expect(response.status).toBe(200);
    expect(sink.spans.length).toBe(before + 1);
  };

  const decodeStatus = async (response: Response) => {
    const { rpcStatus } = otlpProtoTypes();
    return rpcStatus.toObject(rpcStatus.decode(new Uint8Array(await response.arrayBuffer()))) as {
      code: number;
      message: string;
    };
  };

  it('answers undecodable protobuf with 400 and a google.rpc.Status body', async () => {
    const response = await post(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), {
      'content-type': 'application/x-protobuf',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-protobuf');
    expect(await decodeStatus(response)).toEqual({
      code: 3,
      message: 'body is not a valid protobuf ExportTraceServiceRequest',
    });
    expect(events.rejected.at(-1)).toEqual(['http_protobuf', 'malformed']);
    await expectStillServing();
  });

  it('answers invalid JSON with 400 { code, message } that does not echo the body', async () => {
    const response = await post('{"resourceSpans": [ secret-value-xyz', {
      'content-type': 'application/json',
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body).toEqual({ code: 'malformed', message: 'body is not valid JSON' });
    await expectStillServing();
  });

  it('answers a method other than POST with 405 and Allow: POST', async () => {
    const response = await fetch(`${server.url}/v1/traces`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers an unknown content type with 415', async () => {
    const response = await post('resourceSpans=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ code: 'unsupported_media_type' });
    await expectStillServing();
  });

  it('answers a body over the size limit with 413', async () => {
    const response = await post(new Uint8Array(limits.maxBodyBytes + 1), {
      'content-type': 'application/x-protobuf',
    });
    expect(response.status).toBe(413);
    expect((await decodeStatus(response)).message).toBe(
      `request body is larger than ${limits.maxBodyBytes} bytes`,
    );
    await expectStillServing();
  });

  it('answers a gzip bomb with 413 without inflating it into memory', async () => {
    // 256 MiB of zeros compress to about 256 KiB, well under the body limit.
    const bomb = await new Promise<Buffer>((resolve) => {
      const gzip = createGzip({ level: 9 });
      const chunks: Buffer[] = [];
      gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
      gzip.on('end', () => resolve(Buffer.concat(chunks)));
      const zeros = Buffer.alloc(1024 * 1024);
      for (let written = 0; written < 256; written++) gzip.write(zeros);
      gzip.end();
    });
    expect(bomb.length).toBeLessThan(limits.maxBodyBytes);
    const before = process.memoryUsage().arrayBuffers;
    const response = await post(bomb, {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(413);
    expect((await decodeStatus(response)).message).toBe(
      `decompressed body is larger than ${limits.maxDecompressedBytes} bytes`,
    );
    // Hostile-input bound: inflation stopped near the 4 MiB cap, nowhere near 256 MiB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    await expectStillServing();
  });

  it('answers corrupt gzip with 400', async () => {
    const response = await post(new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(400);
    await expectStillServing();
  });

  it.each([
    ['a short trace id', { traceId: 'abcd' }, 'traceId must be 32 hexadecimal characters'],
    ['an all-zero span id', { spanId: '0000000000000000' }, 'spanId is missing or all zero'],
    [
      'a non-hex trace id',
      { traceId: 'zz8efff798038103d269b633813fc60c' },
      'traceId must be 32 hexadecimal characters',
    ],
    [
      'an end before the start',
      { endTimeUnixNano: '1600000000000000000' },
      'span endTimeUnixNano is before startTimeUnixNano',
    ],
  ])('refuses %s with 400 over JSON', async (_what, span, message) => {
    const response = await postJson(jsonRequest(span));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 'invalid', message });
    await expectStillServing();
  });

  it('refuses invalid ids over protobuf too', async () => {
    const { exportTraceServiceRequest: type } = otlpProtoTypes();
    const body = type
      .encode(
        type.fromObject({
          resourceSpans: [
            {
              scopeSpans: [
                { spans: [{ traceId: Buffer.alloc(16), spanId: Buffer.alloc(8, 1), startTimeUnixNano: 1 }] },
              ],
            },
          ],
        }),
      )
      .finish();
    const response = await post(body, { 'content-type': 'application/x-protobuf' });
    expect(response.status).toBe(400);
    expect(await decodeStatus(response)).toEqual({ code: 3, message: 'traceId is missing or all zero' });
    await expectStillServing();
  });

  it('refuses attribute values nested deeper than the cap', async () => {
    let value: unknown = { stringValue: 'leaf' };
    for (let depth = 0; depth < 40; depth++) value = { arrayValue: { values: [value] } };
    const response = await postJson(jsonRequest({ attributes: [{ key: 'deep', value }] }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: 'invalid',
      message: 'attribute value nested deeper than 8 levels',
    });
    await expectStillServing();
  });

  it('survives nesting far deeper than any parser recursion would allow', async () => {
    const depth = 30_000;
    const body =
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":' +
      '{"arrayValue":{"values":['.repeat(depth) +
      ']}}'.repeat(depth) +
      '}]}]}]}]}';
    const response = await post(body, { 'content-type': 'application/json' });
    expect(response.status).toBe(400);
    await expectStillServing();
  });

  it('stores megabyte strings truncated with a marker and tells the exporter', async () => {
    const huge = 'x'.repeat(1024 * 1024 - 4096);
    const response = await postJson(
      jsonRequest({ attributes: [{ key: 'big', value: { stringValue: huge } }] }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      partialSuccess: {
        rejectedSpans: 0,
        errorMessage: '1 string value(s) were longer than 16384 characters and were truncated',
      },
    });
    const stored = sink.spans.at(-1)!.attributes.big as string;
    expect(stored).toBe('x'.repeat(16 * 1024) + '[TRUNCATED:max_attribute_value_length]');
  });

  it('redacts before it cuts: a secret across the cut and a long JSON document leave nothing behind', async () => {
    const acrossCut = 'x'.repeat(16 * 1024 - 10) + ` ${GITHUB_TOKEN} tail`;
    // Only its structure says this is secret: the value sits under a secret key, as an object.
    const longJson = JSON.stringify({
      credentials: { value: 'opaque-hunter2-value' },
      filler: 'y'.repeat(20 * 1024),
    });
    const response = await postJson(
      jsonRequest({
        attributes: [
          { key: 'across', value: { stringValue: acrossCut } },
          { key: 'document', value: { stringValue: longJson } },
        ],
      }),
    );
    expect(response.status).toBe(200);
    const stored = sink.spans.at(-1)!.attributes;
    for (const value of [stored.across, stored.document] as string[]) {
      expect(value.length).toBeLessThanOrEqual(16 * 1024 + '[TRUNCATED:max_attribute_value_length]'.length);
      expect(value).toMatch(/\[TRUNCATED:max_attribute_value_length\]$/);
      expect(value).not.toContain(GITHUB_TOKEN.slice(0, 8));
    }
    expect(JSON.stringify(stored)).not.toContain('hunter2');
  });

  it('finds a secret sent as bytesValue, which arrives base64-encoded', async () => {
    const bytes = Buffer.from(`Authorization: token ${GITHUB_TOKEN}`).toString('base64');
    const response = await postJson(
      jsonRequest({ attributes: [{ key: 'payload', value: { bytesValue: bytes } }] }),
    );
    expect(response.status).toBe(200);
    const stored = sink.spans.at(-1)!.attributes.payload as string;
    expect(stored).not.toBe(bytes);
    expect(stored).toMatch(/^\[REDACTED:[a-z_]+\]$/);
  });

  it('refuses a request with more spans than allowed, storing none of them', async () => {
    const before = sink.spans.length;
    const response = await postJson(jsonRequest({}, limits.maxSpansPerRequest + 1));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: 'limit_exceeded',
      message: `request holds ${limits.maxSpansPerRequest + 1} spans; at most ${limits.maxSpansPerRequest} are accepted per request`,
    });
    expect(sink.spans.length).toBe(before);
    await expectStillServing();
  });

  it('refuses a span with more attributes than allowed', async () => {
    const attributes = Array.from({ length: 257 }, (_, index) => ({
      key: `a${index}`,
      value: { intValue: index },
    }));
    const response = await postJson(jsonRequest({ attributes }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'limit_exceeded' });
    await expectStillServing();
  });

  it('accepts a gzip body within both limits', async () => {
    const response = await post(gzipSync(encodeTraceRequest([])), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(200);
  });
});

describe('OTLP/HTTP receiver under overload', () => {
  it('answers 503 with Retry-After, and the real exporter retries until the sink accepts', async () => {
    const sink = recordingSink();
    const { observer, events } = recordingObserver();
    const server = await listen(
      otlpHttpRoutes({ sink, redactor: createRedactor({ maxStringLength: 64 * 1024 }), observer }),
    );
    try {
      sink.failNext(new IngestOverloadedError(1));
      const direct = await fetch(`${server.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(jsonRequest()),
      });
      expect(direct.status).toBe(503);
      expect(direct.headers.get('retry-after')).toBe('1');
      expect(await direct.json()).toEqual({
        code: 'overloaded',
        message: 'the collector is overloaded; retry later',
      });

      sink.failNext(new IngestOverloadedError(1), new Error('disk full'));
      const exporter = new OtlpProtoExporter({ url: `${server.url}/v1/traces`, timeoutMillis: 20_000 });
      const result = await exportSpans(exporter, spans);
      await exporter.shutdown();

      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(sink.calls()).toBe(4);
      expect(sink.spans).toHaveLength(spans.length);
      expect(events.rejected).toEqual([
        ['http_json', 'overloaded'],
        ['http_protobuf', 'overloaded'],
        ['http_protobuf', 'storage_error'],
      ]);
    } finally {
      await server.close();
    }
  });
});

describe('OTLP/HTTP receiver with a full queue', () => {
  it('answers 503 before reading, decoding or redacting the request', async () => {
    const sink = recordingSink();
    const { observer, events } = recordingObserver();
    const redactor = createRedactor();
    let redactions = 0;
    const countingRedactor = {
      redactString: (value: string) => (redactions++, redactor.redactString(value)),
      redactAttributes: (value: Record<string, unknown>) => (redactions++, redactor.redactAttributes(value)),
    };
    const checked: number[] = [];
    const fullSink = {
      ...sink,
      checkRoomFor: (bytes: number) => {
        checked.push(bytes);
        throw new IngestOverloadedError(3);
      },
    };
    const server = await listen(otlpHttpRoutes({ sink: fullSink, redactor: countingRedactor, observer }));
    try {
      // Not protobuf at all: decoding would answer 400.
      const garbage = await post(Buffer.from('not a protobuf request'), {
        'content-type': 'application/x-protobuf',
      });
      expect(garbage.status).toBe(503);
      expect(garbage.headers.get('retry-after')).toBe('3');
      const body = Buffer.from(
        encodeTraceRequest([
          makeSpan({
            trace: 't',
            span: 's',
            startMs: 0,
            durationMs: 1,
            service: 'agent',
            attributes: { password: 'x' },
          }),
        ]),
      );
      const valid = await post(body, { 'content-type': 'application/x-protobuf' });
      expect(valid.status).toBe(503);
      expect(checked).toEqual([Buffer.byteLength('not a protobuf request'), body.byteLength]);
      expect(redactions).toBe(0);
      expect(sink.calls()).toBe(0);
      expect(events.rejected).toEqual([
        ['http_protobuf', 'overloaded'],
        ['http_protobuf', 'overloaded'],
      ]);
    } finally {
      await server.close();
    }

    async function post(payload: Uint8Array, headers: Record<string, string>) {
      return fetch(`${server.url}/v1/traces`, { method: 'POST', headers, body: payload });
    }
  });
});

describe('OTLP/HTTP receiver when redaction fails', () => {
  it('answers a retryable 503 and stores nothing unredacted', async () => {
    const sink = recordingSink();
    const failingRedactor = {
      redactString: () => {
        throw new Error('rule table failed to load');
      },
      redactAttributes: () => {
        throw new Error('rule table failed to load');
      },
    };
    const server = await listen(otlpHttpRoutes({ sink, redactor: failingRedactor }));
    try {
      const request = jsonRequest({ attributes: [{ key: 'k', value: { stringValue: 'v' } }] });
      const response = await fetch(`${server.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(sink.calls()).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('OTLP/HTTP receiver with static tokens', () => {
  it('accepts the right token and answers 401 with WWW-Authenticate to a wrong or missing one', async () => {
    const sink = recordingSink();
    const { observer, events } = recordingObserver();
    const authenticator = createAuthenticator({ tokens: ['ingest-token-1', 'ingest-token-2'] });
    const server = await listen(
      otlpHttpRoutes({
        sink,
        redactor: createRedactor({ maxStringLength: 64 * 1024 }),
        observer,
        authenticator,
      }),
    );
    try {
      const send = (headers: Record<string, string>) => {
        const exporter = new OtlpHttpJsonExporter({ url: `${server.url}/v1/traces`, headers });
        return exportSpans(exporter, spans).finally(() => exporter.shutdown());
      };
      expect((await send({ authorization: 'Bearer ingest-token-2' })).code).toBe(ExportResultCode.SUCCESS);
      expect((await send({ authorization: 'Bearer wrong' })).code).toBe(ExportResultCode.FAILED);
      expect((await send({})).code).toBe(ExportResultCode.FAILED);
      expect(sink.spans).toHaveLength(spans.length);
      expect(events.authFailed).toEqual([
        ['http_json', 'invalid_token'],
        ['http_json', 'missing_token'],
      ]);

      const refused = await fetch(`${server.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer wrong' },
        body: encodeTraceRequest([]),
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      const { rpcStatus } = otlpProtoTypes();
      expect(rpcStatus.toObject(rpcStatus.decode(new Uint8Array(await refused.arrayBuffer())))).toEqual({
        code: 16,
        message: 'the bearer token is not valid',
      });
    } finally {
      await server.close();
    }
  });
});
