import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createRedactor } from '@mcpscope/instrumentation/redaction';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../auth/authenticator.js';
import {
  AUDIENCE,
  hostileTokens,
  ISSUER,
  startJwksServer,
  type JwksServer,
} from '../auth/test-support/jwks.js';
import { IngestOverloadedError } from '../model/span.js';
import { otlpProtoTypes } from '../otlp/proto.js';
import { startOtlpGrpcReceiver, type OtlpGrpcOptions, type OtlpGrpcReceiver } from './otlp-grpc.js';
import {
  expectedRecord,
  exportSpans,
  ExportResultCode,
  makeSampleSpans,
  recordingObserver,
  recordingSink,
  withRedactedSecrets,
} from './test-support/otlp-fixtures.js';

const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

let spans: ReadableSpan[];
beforeAll(async () => {
  spans = await makeSampleSpans();
});

const start = (options: Omit<OtlpGrpcOptions, 'host' | 'port' | 'redactor'>) =>
  startOtlpGrpcReceiver({
    host: '127.0.0.1',
    port: 0,
    redactor: createRedactor({ maxStringLength: 64 * 1024 }),
    ...options,
  });

const exporterFor = (
  receiver: OtlpGrpcReceiver,
  options: { authorization?: string; compression?: string } = {},
) => {
  const metadata = new grpc.Metadata();
  if (options.authorization) metadata.set('authorization', options.authorization);
  return new OtlpGrpcExporter({
    url: `http://127.0.0.1:${receiver.port}`,
    metadata,
    ...(options.compression && { compression: options.compression as never }),
  });
};

const exportWith = async (receiver: OtlpGrpcReceiver, options: Parameters<typeof exporterFor>[1] = {}) => {
  const exporter = exporterFor(receiver, options);
  try {
    return await exportSpans(exporter, spans);
  } finally {
    await exporter.shutdown();
  }
};

type RawAnswer = { error: grpc.ServiceError | null; response?: Buffer };

/** A bare gRPC call with arbitrary bytes, for what no well-behaved exporter sends. */
const rawExport = (
  receiver: OtlpGrpcReceiver,
  body: Uint8Array,
  path = TRACE_EXPORT,
  channelOptions: grpc.ChannelOptions = {},
): Promise<RawAnswer> => {
  const client = new grpc.Client(
    `127.0.0.1:${receiver.port}`,
    grpc.credentials.createInsecure(),
    channelOptions,
  );
  return new Promise<RawAnswer>((resolve) => {
    client.makeUnaryRequest(
      path,
      (request: Uint8Array) => Buffer.from(request),
      (bytes: Buffer) => bytes,
      body,
      new grpc.Metadata(),
      (error, response) => resolve({ error, ...(response && { response }) }),
    );
  }).finally(() => client.close());
};

const validRequest = () => {
  const { exportTraceServiceRequest: type } = otlpProtoTypes();
  return type
    .encode(
      type.fromObject({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: Buffer.alloc(16, 7),
                    spanId: Buffer.alloc(8, 9),
                    name: 'raw',
                    startTimeUnixNano: 1_700_000_000_000_000_000n.toString(),
                    endTimeUnixNano: 1_700_000_000_100_000_000n.toString(),
                  },
                ],
              },
            ],
          },
        ],
      }),
    )
    .finish();
};

describe('OTLP/gRPC receiver with the real OpenTelemetry exporter', () => {
  const sink = recordingSink();
  const { observer, events } = recordingObserver();
  let receiver: OtlpGrpcReceiver;
  beforeAll(async () => {
    receiver = await start({ sink, observer });
  });
  afterAll(() => receiver.close());

  for (const compression of ['none', 'gzip']) {
    it(`keeps every field exactly and redacts secrets (compression ${compression})`, async () => {
      sink.spans.length = 0;
      expect((await exportWith(receiver, { compression })).code).toBe(ExportResultCode.SUCCESS);
      const byId = new Map(sink.spans.map((span) => [span.spanId, span]));
      expect(byId.size).toBe(spans.length);
      for (const span of spans) {
        expect(byId.get(span.spanContext().spanId)).toEqual(withRedactedSecrets(expectedRecord(span)));
      }
      expect(events.received.at(-1)).toEqual(['grpc', spans.length]);
    });
  }

  it('answers malformed messages with INVALID_ARGUMENT and keeps serving', async () => {
    const garbage = await rawExport(receiver, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(garbage.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(garbage.error?.details).toBe('body is not a valid protobuf ExportTraceServiceRequest');

    const { exportTraceServiceRequest: type } = otlpProtoTypes();
    const zeroIds = type
      .encode(
        type.fromObject({
          resourceSpans: [
            { scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16), spanId: Buffer.alloc(8) }] }] },
          ],
        }),
      )
      .finish();
    const invalid = await rawExport(receiver, zeroIds);
    expect(invalid.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(invalid.error?.details).toBe('traceId is missing or all zero');
    expect(events.rejected.slice(-2)).toEqual([
      ['grpc', 'malformed'],
      ['grpc', 'invalid'],
    ]);

    const valid = await rawExport(receiver, validRequest());
    expect(valid.error).toBeNull();
    expect(sink.spans.at(-1)?.name).toBe('raw');
  });

  it('refuses a message over the size limit, compressed or not, with RESOURCE_EXHAUSTED', async () => {
    const small = await start({ sink, limits: { maxDecompressedBytes: 64 * 1024 } });
    try {
      const answer = await rawExport(small, new Uint8Array(128 * 1024));
      expect(answer.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      // Compressed, 8 MiB of zeros is a few KiB on the wire; decompression stops at the limit.
      const gzipAlgorithm = 2;
      const bomb = await rawExport(small, new Uint8Array(8 * 1024 * 1024), TRACE_EXPORT, {
        'grpc.default_compression_algorithm': gzipAlgorithm,
      });
      expect(bomb.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect((await rawExport(small, validRequest())).error).toBeNull();
    } finally {
      await small.close();
    }
  });

  it('accepts and ignores the metrics and logs services', async () => {
    for (const path of [
      '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
    ]) {
      const answer = await rawExport(receiver, new Uint8Array([0x0a, 0x00]), path);
      expect(answer.error).toBeNull();
      expect(answer.response?.length).toBe(0);
    }
  });
});

describe('OTLP/gRPC receiver under overload', () => {
  it('answers UNAVAILABLE with RetryInfo while the sink is full, then accepts again', async () => {
    const sink = recordingSink();
    const { observer, events } = recordingObserver();
    const receiver = await start({ sink, observer });
    try {
      sink.failNext(new IngestOverloadedError(2));
      const refused = await rawExport(receiver, validRequest());
      expect(refused.error?.code).toBe(grpc.status.UNAVAILABLE);
      const detailsBin = refused.error?.metadata.get('grpc-status-details-bin')[0] as Buffer;
      const { rpcStatus, retryInfo } = otlpProtoTypes();
      const status = rpcStatus.decode(detailsBin) as unknown as {
        code: number;
        details: Array<{ type_url: string; value: Uint8Array }>;
      };
      expect(status.code).toBe(grpc.status.UNAVAILABLE);
      expect(status.details[0]?.type_url).toBe('type.googleapis.com/google.rpc.RetryInfo');
      expect(retryInfo.toObject(retryInfo.decode(status.details[0]!.value), { longs: Number })).toEqual({
        retryDelay: { seconds: 2 },
      });

      sink.failNext(new Error('disk full'));
      const exporterResult = await exportWith(receiver);
      expect(exporterResult.code).toBe(ExportResultCode.FAILED);
      expect((exporterResult.error as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);

      expect((await exportWith(receiver)).code).toBe(ExportResultCode.SUCCESS);
      expect(sink.spans).toHaveLength(spans.length);
      expect(events.rejected).toEqual([
        ['grpc', 'overloaded'],
        ['grpc', 'storage_error'],
      ]);
    } finally {
      await receiver.close();
    }
  });
});

describe('OTLP/gRPC receiver with authentication', () => {
  let jwks: JwksServer;
  let receiver: OtlpGrpcReceiver;
  const sink = recordingSink();
  const { observer, events } = recordingObserver();

  beforeAll(async () => {
    jwks = await startJwksServer();
    receiver = await start({
      sink,
      observer,
      authenticator: createAuthenticator({
        tokens: ['grpc-static-token'],
        oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwks.jwksUrl },
      }),
    });
  });
  afterAll(async () => {
    await receiver.close();
    await jwks.close();
  });

  it('accepts a valid JWT and the right static token', async () => {
    expect((await exportWith(receiver, { authorization: `Bearer ${await jwks.sign()}` })).code).toBe(
      ExportResultCode.SUCCESS,
    );
    expect((await exportWith(receiver, { authorization: 'Bearer grpc-static-token' })).code).toBe(
      ExportResultCode.SUCCESS,
    );
    expect(sink.spans).toHaveLength(2 * spans.length);
  });

  it('answers UNAUTHENTICATED to forged, faulty, wrong and missing credentials, counting each reason', async () => {
    events.authFailed.length = 0;
    const cases = [
      ...(await hostileTokens(jwks)).map(
        ([what, token, reason]) => [what, `Bearer ${token}`, reason] as const,
      ),
      ['a wrong static token', 'Bearer grpc-static-tokeN', 'invalid_token'] as const,
      ['no token', undefined, 'missing_token'] as const,
    ];
    for (const [what, authorization, reason] of cases) {
      const result = await exportWith(receiver, authorization ? { authorization } : {});
      expect(result.code, what).toBe(ExportResultCode.FAILED);
      expect((result.error as grpc.ServiceError).code, what).toBe(grpc.status.UNAUTHENTICATED);
      expect(events.authFailed.at(-1), what).toEqual(['grpc', reason]);
    }
    expect(sink.spans).toHaveLength(2 * spans.length);
  });
});
