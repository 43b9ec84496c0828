import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedactor } from '@mcpscope/instrumentation/redaction';
import type { SpanRecord, SpanSink } from '../../../collector/src/model/span.js';
import type { IngestObserver, RejectionReason } from '../../../collector/src/model/ingest-events.js';
import { otlpHttpRoutes } from '../../../collector/src/receivers/otlp-http.js';
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from '../../../collector/src/receivers/otlp-grpc.js';
import { heapUsedAfterGc } from '../reliability/support/exporting-pair.js';
import {
  deeplyNestedJson,
  deeplyNestedProtobuf,
  gzipBomb,
  hugeSpanCountJson,
  hugeSpanCountProtobuf,
  invalidUtf8Json,
  invalidUtf8Protobuf,
  mutatedJson,
  mutatedProtobuf,
  toProtobuf,
  validJsonRequest,
} from './support/otlp-bodies.js';
import { postToApp, rawGrpcTraceClient } from './support/raw-otlp-clients.js';

const HTTP_PROTOBUF_BODIES = 3_500;
const HTTP_JSON_BODIES = 3_500;
const GRPC_BODIES = 3_000;
/** A valid request goes between every this many hostile ones. */
const VALID_EVERY = 50;
const HEAP_GROWTH_LIMIT = 32 * 1024 * 1024;

/** What the receivers committed: only trace ids are kept, so the sink itself cannot hide a leak. */
const committedTraceIds = new Set<string>();
let committedSpans = 0;
const sink: SpanSink = {
  async accept(spans: SpanRecord[]) {
    committedSpans += spans.length;
    for (const span of spans) committedTraceIds.add(span.traceId);
  },
};
const rejections = new Map<RejectionReason, number>();
const observer: IngestObserver = {
  received() {},
  rejected(_protocol, reason) {
    rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
  },
  authFailed() {},
  redacted() {},
};

const redactor = createRedactor();
const app = otlpHttpRoutes({ sink, redactor, observer });
let receiver: OtlpGrpcReceiver;
let grpcClient: ReturnType<typeof rawGrpcTraceClient>;

beforeAll(async () => {
  receiver = await startOtlpGrpcReceiver({ host: '127.0.0.1', port: 0, sink, redactor, observer });
  grpcClient = rawGrpcTraceClient(receiver.port);
});
afterAll(async () => {
  grpcClient?.close();
  await receiver?.close();
});

const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };
/** Answers a hostile request may get: refused with a clear 4xx, or accepted when the mutation happened to stay valid. */
const HTTP_ACCEPTABLE = [200, 400, 413, 415];
const GRPC_ACCEPTABLE = [grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED];

const sample = <T>(arbitrary: fc.Arbitrary<T>, count: number, seed: number): T[] =>
  fc.sample(arbitrary, { numRuns: count, seed });

type Send = (body: Uint8Array | string) => Promise<{ accepted: boolean; answer: string }>;

const expectValidStillCommitted = async (send: Send, format: 'protobuf' | 'json') => {
  const { traceId, request } = validJsonRequest('valid-between', 2);
  const { accepted, answer } = await send(
    format === 'protobuf' ? toProtobuf(request) : JSON.stringify(request),
  );
  expect(accepted, `a valid request between hostile ones is accepted (got ${answer})`).toBe(true);
  expect(committedTraceIds.has(traceId), 'and its spans are committed').toBe(true);
};

describe('hostile OTLP bodies', () => {
  it('never crash a receiver, never get a 5xx, and leave valid traffic flowing', async () => {
    const heapBefore = heapUsedAfterGc();
    const unexpected: string[] = [];
    let sent = 0;
    let validSent = 0;

    const httpSend = (headers: Record<string, string>) => async (body: Uint8Array | string) => {
      const answer = await postToApp(app, '/v1/traces', body, headers);
      sent += 1;
      if (!HTTP_ACCEPTABLE.includes(answer.status)) {
        unexpected.push(`HTTP ${headers['content-type']} ${answer.status} ${answer.body.slice(0, 200)}`);
      }
      if (answer.status >= 400 && answer.body.length > 2_000)
        unexpected.push(`HTTP error answer of ${answer.body.length} bytes`);
      return { accepted: answer.status === 200, answer: `${answer.status} ${answer.body.slice(0, 200)}` };
    };
    const grpcSend = async (body: Uint8Array | string) => {
      const answer = await grpcClient.export(typeof body === 'string' ? Buffer.from(body) : body);
      sent += 1;
      if (!GRPC_ACCEPTABLE.includes(answer.code))
        unexpected.push(`gRPC ${grpc.status[answer.code]} ${answer.details}`);
      return {
        accepted: answer.code === grpc.status.OK,
        answer: `${grpc.status[answer.code]} ${answer.details}`,
      };
    };

    const runAll = async (
      bodies: Array<Uint8Array | string>,
      send: Send,
      validFormat: 'protobuf' | 'json',
    ) => {
      for (const [index, body] of bodies.entries()) {
        await send(body);
        if (index % VALID_EVERY === 0) {
          await expectValidStillCommitted(send, validFormat);
          validSent += 1;
        }
      }
    };

    // Crafted cases first: each is a known way to hurt a decoder.
    const craftedProtobuf: Uint8Array[] = [
      deeplyNestedProtobuf(10),
      deeplyNestedProtobuf(5_000),
      deeplyNestedProtobuf(20_000),
      hugeSpanCountProtobuf(200_000),
      invalidUtf8Protobuf(),
      new Uint8Array(0),
    ];
    const craftedJson: Array<Uint8Array | string> = [
      deeplyNestedJson(10),
      deeplyNestedJson(5_000),
      deeplyNestedJson(100_000),
      '['.repeat(500_000),
      hugeSpanCountJson(200_000),
      invalidUtf8Json(),
      JSON.stringify(validJsonRequest('x'.repeat(2_000_000), 1).request),
      '',
    ];
    await runAll(craftedProtobuf, httpSend(PROTOBUF), 'protobuf');
    await runAll(craftedJson, httpSend(JSON_TYPE), 'json');
    await runAll(craftedProtobuf, grpcSend, 'protobuf');

    // Compression bombs: 64 MiB of zeros in well under a megabyte, four times the decompressed limit.
    const bomb = gzipBomb(64);
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    for (const headers of [PROTOBUF, JSON_TYPE]) {
      const answer = await postToApp(app, '/v1/traces', bomb, { ...headers, 'content-encoding': 'gzip' });
      sent += 1;
      expect(answer.status, 'a gzip bomb is refused as too large').toBe(413);
    }
    const corruptGzip = Buffer.from(bomb.subarray(0, 200));
    expect(
      (await postToApp(app, '/v1/traces', corruptGzip, { ...PROTOBUF, 'content-encoding': 'gzip' })).status,
    ).toBe(400);
    sent += 1;

    // Generated and mutated bodies.
    await runAll(sample(mutatedProtobuf(), HTTP_PROTOBUF_BODIES, 7), httpSend(PROTOBUF), 'protobuf');
    await runAll(sample(mutatedJson(), HTTP_JSON_BODIES, 11), httpSend(JSON_TYPE), 'json');
    await runAll(sample(mutatedProtobuf(), GRPC_BODIES, 13), grpcSend, 'protobuf');

    const heapAfter = heapUsedAfterGc();
    expect(unexpected, unexpected.slice(0, 20).join('\n')).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(10_000);
    expect(validSent).toBeGreaterThan(200);
    expect(rejections.get('malformed') ?? 0, 'undecodable bodies are counted as malformed').toBeGreaterThan(
      1_000,
    );
    expect(
      rejections.get('invalid') ?? 0,
      'decodable but wrong bodies are counted as invalid',
    ).toBeGreaterThan(100);
    expect(rejections.get('limit_exceeded') ?? 0, 'requests over a limit are counted').toBeGreaterThan(0);
    expect(heapAfter - heapBefore, 'memory is back where it started').toBeLessThan(HEAP_GROWTH_LIMIT);
    expect(committedSpans).toBeGreaterThanOrEqual(validSent * 2);
  }, 120_000);

  it('refuses a body-limit request of millions of empty spans quickly, without stalling the receiver', async () => {
    // 2 bytes per empty span: about two million spans fit under the 4 MiB body limit.
    const body = hugeSpanCountProtobuf(2_000_000);
    expect(body.byteLength).toBeLessThan(4 * 1024 * 1024);
    const started = performance.now();
    const answer = await postToApp(app, '/v1/traces', body, PROTOBUF);
    const elapsedMs = performance.now() - started;
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('spans');
    // Hostile-input bound: one request must not hold the event loop (and every other exporter) for seconds.
    expect(elapsedMs, `refusing it took ${Math.round(elapsedMs)} ms`).toBeLessThan(2_000);
  }, 60_000);

  it('refuses a gzip bomb over gRPC without inflating it all, and keeps serving', async () => {
    const compressing = rawGrpcTraceClient(receiver.port, { 'grpc.default_compression_algorithm': 2 });
    try {
      const zeros = Buffer.alloc(64 * 1024 * 1024);
      const heapBefore = heapUsedAfterGc();
      const answer = await compressing.export(zeros);
      expect(answer.code, answer.details).toBe(grpc.status.RESOURCE_EXHAUSTED);
      const { traceId, request } = validJsonRequest('after-bomb', 1);
      const after = await compressing.export(toProtobuf(request));
      expect(after.code, after.details).toBe(grpc.status.OK);
      expect(committedTraceIds.has(traceId)).toBe(true);
      expect(heapUsedAfterGc() - heapBefore).toBeLessThan(HEAP_GROWTH_LIMIT);
    } finally {
      compressing.close();
    }
  }, 60_000);
});
