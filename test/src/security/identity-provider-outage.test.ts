import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../../collector/src/app.js';
import {
  AUDIENCE,
  ISSUER,
  startJwksServer,
  type JwksServer,
} from '../../../collector/src/auth/test-support/jwks.js';
import { collectorConfig, type CollectorConfig } from '../../../collector/src/config/index.js';
import { toProtobuf, validJsonRequest } from './support/otlp-bodies.js';
import { rawGrpcTraceClient } from './support/raw-otlp-clients.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const start = async (jwks: JwksServer, overrides: Partial<CollectorConfig> = {}) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mcpscope-idp-'));
  const collector = await startCollector(
    collectorConfig({
      httpPort: 0,
      grpcPort: 0,
      batchIntervalMs: 2,
      dbPath: join(dataDir, 'idp.duckdb'),
      oidc: { issuer: ISSUER, audience: [AUDIENCE], jwksUrl: jwks.jwksUrl, jwksMaxAgeSeconds: 1 },
      ...overrides,
    }),
  );
  cleanups.push(async () => {
    await collector.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return collector;
};

const exportOverHttp = async (collector: RunningCollector, jwt: string) => {
  const response = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
    body: JSON.stringify(validJsonRequest('idp-outage', 1).request),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after') };
};

const exportOverGrpc = async (collector: RunningCollector, jwt: string) => {
  const client = rawGrpcTraceClient(collector.grpcPort);
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${jwt}`);
  const answer = await client.export(toProtobuf(validJsonRequest('idp-outage', 1).request), metadata);
  client.close();
  return answer.code;
};

const metric = async (collector: RunningCollector, series: string) => {
  const text = await (await fetch(`${collector.url}/metrics`)).text();
  return Number(
    text
      .split('\n')
      .find((line) => line.startsWith(`${series} `))
      ?.slice(series.length + 1),
  );
};

describe('identity provider outage', () => {
  it('keeps taking valid JWTs with the last good keys for the grace time, counts it, then asks callers to retry', async () => {
    const jwks = await startJwksServer();
    const collector = await start(jwks, { oidcJwksGraceSeconds: 3 });
    const jwt = await jwks.sign();
    expect((await exportOverHttp(collector, jwt)).status).toBe(200);

    await jwks.close(); // the identity provider goes away
    await sleep(1_300); // the keys are past their age: a fetch is due, and fails
    expect((await exportOverHttp(collector, jwt)).status).toBe(200);
    expect(await exportOverGrpc(collector, jwt)).toBe(grpc.status.OK);
    await sleep(200);
    expect(
      await metric(collector, 'mcpscope_collector_jwks_fetch_failures_total{outcome="stale_keys_served"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(await metric(collector, 'mcpscope_collector_jwks_stale_key_verifications_total')).toBe(2);
    // A forged token is still refused with the stale keys.
    expect((await exportOverHttp(collector, `${jwt.slice(0, -4)}AAAA`)).status).toBe(401);

    await sleep(3_000); // past the grace time: no keys to judge with, a retryable answer, never a 401
    expect(await exportOverHttp(collector, jwt)).toEqual({ status: 503, retryAfter: '5' });
    expect(await exportOverGrpc(collector, jwt)).toBe(grpc.status.UNAVAILABLE);
  }, 30_000);

  it('asks callers to retry, rather than refusing them, when the identity provider is down at start-up', async () => {
    const jwks = await startJwksServer();
    const jwt = await jwks.sign();
    await jwks.close();
    const collector = await start(jwks);
    expect(await exportOverHttp(collector, jwt)).toEqual({ status: 503, retryAfter: '5' });
    const api = await fetch(`${collector.url}/api/tasks`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('5');
    expect(
      await metric(collector, 'mcpscope_collector_jwks_fetch_failures_total{outcome="no_keys"}'),
    ).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('refuses a JWT without exp unless told not to', async () => {
    const jwks = await startJwksServer();
    cleanups.push(() => jwks.close());
    const forever = await jwks.sign({}, { withoutExp: true });
    const strict = await start(jwks);
    expect((await exportOverHttp(strict, forever)).status).toBe(401);
    expect((await exportOverHttp(strict, await jwks.sign())).status).toBe(200);
    const lenient = await start(jwks, { oidcRequireExp: false });
    expect((await exportOverHttp(lenient, forever)).status).toBe(200);
  }, 30_000);
});
