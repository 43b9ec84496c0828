import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../../collector/src/app.js';
import { collectorConfig } from '../../../collector/src/config/index.js';
import { toProtobuf, validJsonRequest } from './support/otlp-bodies.js';
import { rawGrpcTraceClient } from './support/raw-otlp-clients.js';

const TOKEN = `ingest-${'Hk2'.repeat(11)}`;
const LIMIT = 5;

let dataDir: string;
let collector: RunningCollector;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mcpscope-throttle-'));
  collector = await startCollector(
    collectorConfig({
      httpPort: 0,
      grpcPort: 0,
      batchIntervalMs: 2,
      dbPath: join(dataDir, 'throttle.duckdb'),
      authTokens: [TOKEN],
      authFailureLimit: LIMIT,
    }),
  );
}, 60_000);

afterAll(async () => {
  await collector?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const exportOverHttp = async (token: string) => {
  const response = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(validJsonRequest('throttle', 1).request),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as { code: string },
  };
};

describe('failed authentication from one address', () => {
  it('is answered 429 with Retry-After on every surface once past the limit, before any credential is checked', async () => {
    expect((await exportOverHttp(TOKEN)).status).toBe(200);
    for (let attempt = 0; attempt < LIMIT; attempt++) {
      expect((await exportOverHttp(`guess-${attempt}-${'x'.repeat(30)}`)).status).toBe(401);
    }
    const throttled = await exportOverHttp('one-more-guess');
    expect(throttled.status).toBe(429);
    expect(throttled.body.code).toBe('throttled');
    expect(Number(throttled.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(throttled.retryAfter)).toBeLessThanOrEqual(60);
    // Guessing right now gains nothing: the address waits, whatever it sends.
    expect((await exportOverHttp(TOKEN)).status).toBe(429);

    const api = await fetch(`${collector.url}/api/tasks`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(429);
    expect(api.headers.get('retry-after')).toMatch(/^\d+$/);

    const client = rawGrpcTraceClient(collector.grpcPort);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer another-guess');
    const answer = await client.export(toProtobuf(validJsonRequest('throttle', 1).request), metadata);
    client.close();
    expect(answer.code).toBe(grpc.status.UNAVAILABLE);
    expect(answer.details).toMatch(/too many failed authentications/);

    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(
      /^mcpscope_collector_requests_rejected_total\{protocol="http_json",reason="throttled"\} 2$/m,
    );
    expect(metrics).toMatch(
      /^mcpscope_collector_requests_rejected_total\{protocol="api",reason="throttled"\} 1$/m,
    );
  });
});
