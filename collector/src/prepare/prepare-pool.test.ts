import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { IngestOverloadedError } from '../model/span.js';
import { encodeTraceRequest } from '../otlp/encode.js';
import { resolveOtlpLimits } from '../otlp/limits.js';
import { makeSpan } from '../pipeline/test-support/spans.js';
import { otlpHttpRoutes } from '../receivers/otlp-http.js';
import { GITHUB_TOKEN, listen, recordingSink } from '../receivers/test-support/otlp-fixtures.js';
import { collectorRedactor } from '../redact/collector-redactor.js';
import { PreparePool } from './prepare-pool.js';
import { prepareSpans } from './prepare-spans.js';

const redaction = {
  rules: [{ name: 'employee_id', value: 'EMP-[0-9]{6}' }],
  maxStringLength: 16 * 1024 * 1024,
};
const limits = resolveOtlpLimits({ maxAttributeValueLength: 64 });

const spans = Array.from({ length: 50 }, (_, index) =>
  makeSpan({
    trace: `task-${index % 5}`,
    span: `call-${index}`,
    name: 'tools/call lookup',
    kind: 'server',
    startMs: index,
    durationMs: 3,
    service: 'billing',
    error: index % 7 === 0,
    attributes: {
      'gen_ai.tool.name': 'lookup',
      'gen_ai.tool.call.arguments': JSON.stringify({
        employee: `EMP-${100_000 + index}`,
        token: GITHUB_TOKEN,
      }),
      'mcpscope.note': 'x'.repeat(100),
      count: index,
    },
  }),
);

describe('decoding and redaction in worker threads', () => {
  const pool = new PreparePool({ redaction, size: 2 });
  afterAll(() => pool.close());

  it('prepares a request exactly as the main thread does: secrets and configured patterns redacted, long values cut', async () => {
    const body = encodeTraceRequest(spans);
    const inWorker = await pool.prepare(body, 'protobuf', limits);
    const inline = prepareSpans(body, 'protobuf', limits, collectorRedactor(redaction));

    expect(inWorker).toEqual(inline);
    if (!inWorker.ok) throw new Error('expected the request to be prepared');
    expect(inWorker.spans).toHaveLength(50);
    const stored = JSON.stringify(inWorker.spans, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    expect(stored).not.toContain(GITHUB_TOKEN);
    expect(stored).not.toContain('EMP-100001');
    expect(inWorker.redactedByRule.employee_id).toBe(50);
    expect(inWorker.cutValues).toBeGreaterThanOrEqual(50);
    expect(inWorker.spans[3]?.startTimeUnixNano).toBe(spans[3]?.startTimeUnixNano);
  });

  it('refuses a malformed request with the same reason and message as the main thread', async () => {
    const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    const inWorker = await pool.prepare(garbage, 'protobuf', limits);
    expect(inWorker).toEqual(prepareSpans(garbage, 'protobuf', limits, collectorRedactor(redaction)));
    expect(inWorker).toMatchObject({ ok: false, stage: 'decode', reason: 'malformed' });
  });

  it('prepares many requests at once, each answered with its own spans', async () => {
    const requests = Array.from({ length: 12 }, (_, index) => spans.slice(index, index + 1 + index));
    const answers = await Promise.all(
      requests.map((request) => pool.prepare(encodeTraceRequest(request), 'protobuf', limits)),
    );
    answers.forEach((answer, index) => {
      expect(answer.ok && answer.spans.map((span) => span.spanId)).toEqual(
        requests[index]?.map((span) => span.spanId),
      );
    });
  });

  it('refuses a waiting request without decoding it when its caller no longer wants it started', async () => {
    const body = encodeTraceRequest(spans);
    const overloaded = new IngestOverloadedError(1);
    const [first, second] = await Promise.allSettled([
      pool.prepare(body, 'protobuf', limits),
      pool.prepare(body, 'protobuf', limits),
      pool.prepare(body, 'protobuf', limits),
      pool.prepare(body, 'protobuf', limits, () => {
        throw overloaded;
      }),
    ]).then((results) => [results[0], results[3]]);
    expect(first?.status).toBe('fulfilled');
    expect(second).toEqual({ status: 'rejected', reason: overloaded });
  });

  it('refuses with a retryable busy answer when more requests wait than it allows', async () => {
    const small = new PreparePool({ redaction, size: 1, maxWaiting: 1 });
    try {
      const body = encodeTraceRequest(spans);
      const settled = await Promise.allSettled([1, 2, 3].map(() => small.prepare(body, 'protobuf', limits)));
      expect(settled.map((result) => result.status)).toContain('rejected');
      expect(settled.filter((result) => result.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    } finally {
      await small.close();
    }
  });
});

describe('the receiver with a prepare pool', () => {
  it('answers health checks while a large request is being decoded, then stores it redacted', async () => {
    const pool = new PreparePool({ redaction, size: 1 });
    let healthAnswered = false;
    let roomChecks = 0;
    let healthAnsweredBeforeAccept: boolean | undefined;
    const health: Promise<unknown>[] = [];
    const sink = recordingSink();
    const decoding = {
      ...sink,
      // Asked first before the body is read, then with the whole body right before decoding starts: a
      // health check sent then is answered during decoding only if decoding leaves the main thread free.
      checkRoomFor() {
        roomChecks += 1;
        if (roomChecks !== 2) return;
        health.push(
          fetch(`${server.url}/healthz`).then((response) => {
            healthAnswered = response.ok;
          }),
        );
      },
      accept(batch: Parameters<typeof sink.accept>[0]) {
        healthAnsweredBeforeAccept ??= healthAnswered;
        return sink.accept(batch);
      },
    };
    const app = new Hono();
    app.get('/healthz', (c) => c.json({ status: 'ok' }));
    app.route(
      '/',
      otlpHttpRoutes({
        sink: decoding,
        redactor: collectorRedactor(redaction),
        prepare: pool.prepare,
        limits: { maxBodyBytes: 16 * 1024 * 1024 },
      }),
    );
    const server = await listen(app);
    try {
      const large = Array.from({ length: 8_000 }, (_, index) =>
        makeSpan({
          trace: `large-${index % 40}`,
          span: `large-${index}`,
          startMs: index,
          durationMs: 1,
          service: 'billing',
          attributes: { 'gen_ai.tool.call.arguments': `${GITHUB_TOKEN} ${'y'.repeat(600)} ${index}` },
        }),
      );
      const response = await fetch(`${server.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: encodeTraceRequest(large),
      });
      await Promise.all(health);
      expect(response.status).toBe(200);
      expect(healthAnsweredBeforeAccept).toBe(true);
      expect(sink.spans).toHaveLength(8_000);
      expect(JSON.stringify(sink.spans[0]?.attributes)).not.toContain(GITHUB_TOKEN);
    } finally {
      await server.close();
      await pool.close();
    }
  });
});

describe('a prepare pool whose workers cannot start', () => {
  it('fails the requests with an error (answered "retry later"), and stops replacing the workers', async () => {
    // A pattern the configuration would refuse: here it makes every worker throw while starting.
    const pool = new PreparePool({
      redaction: { rules: [{ name: 'broken', value: '(' }], maxStringLength: 1024 },
    });
    try {
      const body = encodeTraceRequest(spans.slice(0, 1));
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await expect(pool.prepare(body, 'protobuf', limits)).rejects.toThrow();
      }
      await expect(pool.prepare(body, 'protobuf', limits)).rejects.toThrow('decoding workers cannot start');
    } finally {
      await pool.close();
    }
  });
});
