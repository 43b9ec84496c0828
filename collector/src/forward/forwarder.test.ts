import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedactor } from '@mcpscope/instrumentation/redaction';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../auth/authenticator.js';
import type { SpanRecord } from '../model/span.js';
import { otlpHttpRoutes } from '../receivers/otlp-http.js';
import {
  expectedRecord,
  listen,
  makeSampleSpans,
  recordingSink,
} from '../receivers/test-support/otlp-fixtures.js';
import { redactSpans } from '../redact/redact-spans.js';
import { createForwarder, type ForwardDropReason } from './forwarder.js';

/** A loopback port that nothing listens on (yet). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

let records: SpanRecord[];
beforeAll(async () => {
  records = redactSpans((await makeSampleSpans()).map(expectedRecord), createRedactor()).spans;
});

const downstream = (port = 0, tokens: string[] = []) => {
  const sink = recordingSink();
  const app = otlpHttpRoutes({
    sink,
    redactor: createRedactor(),
    authenticator: createAuthenticator({ tokens }),
  });
  return listen(app, port).then((server) => ({ ...server, sink }));
};

describe('createForwarder', () => {
  it('delivers to a downstream that is down at first and comes up later', async () => {
    const port = await freePort();
    const drops: Array<[number, ForwardDropReason]> = [];
    const forwarder = createForwarder({
      endpoint: `http://127.0.0.1:${port}`,
      initialBackoffMs: 50,
      maxBackoffMs: 200,
      maxAttempts: 100,
      onDrop: (count, reason) => drops.push([count, reason]),
    });

    forwarder.forward(records);
    // Let a few attempts fail against the closed port before the backend starts.
    await sleep(300);
    expect(forwarder.stats().forwardedSpans).toBe(0);
    const server = await downstream(port);
    try {
      await forwarder.flush();
      expect(forwarder.stats()).toEqual({ forwardedSpans: records.length, droppedSpans: 0, queuedSpans: 0 });
      expect(drops).toEqual([]);
      const received = new Map(server.sink.spans.map((span) => [span.spanId, span]));
      for (const record of records) expect(received.get(record.spanId)).toEqual(record);
    } finally {
      await forwarder.close();
      await server.close();
    }
  });

  it('sends its headers, and drops a batch the downstream refuses for good', async () => {
    const server = await downstream(0, ['downstream-token']);
    const drops: Array<[number, ForwardDropReason]> = [];
    try {
      const authorized = createForwarder({
        endpoint: `${server.url}/v1/traces`,
        headers: { authorization: 'Bearer downstream-token' },
      });
      authorized.forward(records);
      await authorized.flush();
      expect(server.sink.spans).toHaveLength(records.length);

      const refused = createForwarder({
        endpoint: server.url,
        onDrop: (count, reason) => drops.push([count, reason]),
      });
      refused.forward(records);
      await refused.flush();
      expect(drops).toEqual([[records.length, 'rejected']]);
      expect(refused.stats().droppedSpans).toBe(records.length);
      expect(server.sink.spans).toHaveLength(records.length);
      await Promise.all([authorized.close(), refused.close()]);
    } finally {
      await server.close();
    }
  });

  it('never holds more than its queue bound: the overflow is dropped and counted at once', async () => {
    const port = await freePort();
    const drops: Array<[number, ForwardDropReason]> = [];
    const forwarder = createForwarder({
      endpoint: `http://127.0.0.1:${port}`,
      maxQueuedSpans: records.length * 2,
      maxBatchSpans: records.length,
      initialBackoffMs: 20,
      maxAttempts: 2,
      onDrop: (count, reason) => drops.push([count, reason]),
    });
    for (let request = 0; request < 5; request++) forwarder.forward(records);
    expect(drops.filter(([, reason]) => reason === 'queue_full').length).toBeGreaterThanOrEqual(2);

    await forwarder.flush();
    const stats = forwarder.stats();
    expect(stats.forwardedSpans).toBe(0);
    expect(stats.droppedSpans).toBe(5 * records.length);
    expect(drops.map(([, reason]) => reason)).toContain('retries_exhausted');

    await forwarder.close();
    forwarder.forward(records);
    expect(drops.at(-1)).toEqual([records.length, 'shutdown']);
  });
});
