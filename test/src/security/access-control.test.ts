import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../../collector/src/app.js';
import { authFailureMessage } from '../../../collector/src/auth/require-auth.js';
import { collectorConfig } from '../../../collector/src/config/index.js';
import { otlpProtoTypes } from '../../../collector/src/otlp/proto.js';
import {
  AUDIENCE,
  hostileTokens,
  ISSUER,
  startJwksServer,
  type JwksServer,
} from '../../../collector/src/auth/test-support/jwks.js';
import { toProtobuf, validJsonRequest } from './support/otlp-bodies.js';
import { rawGrpcTraceClient } from './support/raw-otlp-clients.js';

const STATIC_TOKEN = `static-${'k3y'.repeat(12)}`;

let jwks: JwksServer;
let collector: RunningCollector;
let dataDir: string;
let grpcClient: ReturnType<typeof rawGrpcTraceClient>;

beforeAll(async () => {
  jwks = await startJwksServer();
  dataDir = await mkdtemp(join(tmpdir(), 'mcpscope-access-'));
  collector = await startCollector(
    collectorConfig({
      httpPort: 0,
      grpcPort: 0,
      batchIntervalMs: 2,
      dbPath: join(dataDir, 'mcpscope.duckdb'),
      authTokens: [STATIC_TOKEN],
      // Every wrong credential must get its own 401 here; the failure limit has its own test.
      authFailureLimit: 100_000,
      oidc: { issuer: ISSUER, audience: [AUDIENCE], jwksUrl: jwks.jwksUrl },
      maxBodyBytes: 64 * 1024,
      maxDecompressedBytes: 256 * 1024,
      maxSpansPerRequest: 10,
      maxAttributeValueLength: 100,
    }),
  );
  grpcClient = rawGrpcTraceClient(collector.grpcPort);
});
afterAll(async () => {
  grpcClient?.close();
  await collector?.close();
  await jwks?.close();
  await rm(dataDir, { recursive: true, force: true });
});

type Surface = 'http_protobuf' | 'http_json' | 'grpc' | 'api';
const SURFACES: readonly Surface[] = ['http_protobuf', 'http_json', 'grpc', 'api'];

interface Answer {
  ok: boolean;
  /** HTTP status or gRPC code name. */
  status: string;
  body: string;
  /** What the caller is told: `{ code, message }` JSON, or for OTLP/HTTP protobuf a google.rpc.Status. */
  error?: { code: unknown; message: unknown };
  wwwAuthenticate?: string | null;
}

/** One request on one surface with the given Authorization header value (or none). */
const call = async (surface: Surface, authorization: string | undefined): Promise<Answer> => {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  if (surface === 'grpc') {
    const metadata = new grpc.Metadata();
    if (authorization !== undefined) metadata.set('authorization', authorization);
    const answer = await grpcClient.export(toProtobuf(validJsonRequest('auth-check', 1).request), metadata);
    return {
      ok: answer.code === grpc.status.OK,
      status: grpc.status[answer.code] ?? String(answer.code),
      body: answer.details,
    };
  }
  const response =
    surface === 'api'
      ? await fetch(`${collector.url}/api/tasks`, { headers })
      : await fetch(`${collector.url}/v1/traces`, {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': surface === 'http_json' ? 'application/json' : 'application/x-protobuf',
          },
          body:
            surface === 'http_json'
              ? JSON.stringify(validJsonRequest('auth-check', 1).request)
              : toProtobuf(validJsonRequest('auth-check', 1).request),
        });
  const bytes = Buffer.from(await response.arrayBuffer());
  let error: Answer['error'];
  if (!response.ok) {
    error =
      surface === 'http_protobuf'
        ? (otlpProtoTypes().rpcStatus.toObject(otlpProtoTypes().rpcStatus.decode(bytes)) as Answer['error'])
        : (JSON.parse(bytes.toString('utf8')) as Answer['error']);
  }
  return {
    ok: response.ok,
    status: String(response.status),
    body: bytes.toString('utf8'),
    ...(error && { error }),
    wwwAuthenticate: response.headers.get('www-authenticate'),
  };
};

/** The value of one Prometheus sample, 0 when the series does not exist yet. */
const metricValue = (exposition: string, name: string, labels: Record<string, string>): number => {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return 0;
};
const scrape = async () => (await fetch(`${collector.url}/metrics`)).text();

describe('only the right callers get in', () => {
  it('lets in a valid OIDC JWT and the static token on every surface', async () => {
    const jwt = await jwks.sign();
    for (const surface of SURFACES) {
      for (const authorization of [`Bearer ${jwt}`, `Bearer ${STATIC_TOKEN}`, `bearer   ${jwt}`]) {
        const answer = await call(surface, authorization);
        expect(
          answer.ok,
          `${surface} with ${authorization.slice(0, 12)}…: ${answer.status} ${answer.body}`,
        ).toBe(true);
      }
    }
  });

  it('refuses every wrong credential on ingest and the API, says why, and counts each refusal in /metrics', async () => {
    const cases: Array<[label: string, authorization: string | undefined, reason: string]> = [
      ['missing', undefined, 'missing_token'],
      ['empty', '', 'missing_token'],
      ['not a bearer scheme', `Basic ${Buffer.from('user:pass').toString('base64')}`, 'invalid_token'],
      ['bearer without a token', 'Bearer', 'invalid_token'],
      ['malformed JWT', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30', 'invalid_token'],
      ['a wrong static token', `Bearer ${STATIC_TOKEN}x`, 'invalid_token'],
      ...(await hostileTokens(jwks)).map(([label, token, reason]): [string, string, string] => [
        label,
        `Bearer ${token}`,
        reason,
      ]),
    ];
    const before = await scrape();
    const expectedFailures = new Map<string, number>();
    const expectedRejections = new Map<Surface, number>();

    for (const surface of SURFACES) {
      for (const [label, authorization, reason] of cases) {
        const answer = await call(surface, authorization);
        const what = `${surface}, ${label}: ${answer.status} ${answer.body}`;
        expect(answer.ok, what).toBe(false);
        if (surface === 'grpc') {
          expect(answer.status, what).toBe('UNAUTHENTICATED');
        } else {
          expect(answer.status, what).toBe('401');
          expect(answer.wwwAuthenticate, what).toMatch(/^Bearer/);
          expect(answer.error, what).toEqual(
            surface === 'http_protobuf'
              ? { code: grpc.status.UNAUTHENTICATED, message: authFailureMessage(reason as 'missing_token') }
              : { code: reason, message: authFailureMessage(reason as 'missing_token') },
          );
        }
        // The refusal never echoes the credential back.
        if (authorization && authorization.length > 12)
          expect(answer.body).not.toContain(authorization.slice(7));
        expectedFailures.set(reason, (expectedFailures.get(reason) ?? 0) + 1);
        expectedRejections.set(surface, (expectedRejections.get(surface) ?? 0) + 1);
      }
    }

    const after = await scrape();
    for (const [reason, count] of expectedFailures) {
      const labels = { side: 'collector', reason };
      const counted =
        metricValue(after, 'mcpscope_auth_failures_total', labels) -
        metricValue(before, 'mcpscope_auth_failures_total', labels);
      expect(counted, `mcpscope_auth_failures_total{reason="${reason}"}`).toBe(count);
    }
    for (const [surface, count] of expectedRejections) {
      const labels = { protocol: surface, reason: 'unauthenticated' };
      const name = 'mcpscope_collector_requests_rejected_total';
      const counted = metricValue(after, name, labels) - metricValue(before, name, labels);
      expect(counted, `${name}{protocol="${surface}",reason="unauthenticated"}`).toBe(count);
    }
  });
});

describe('request limits, configured and enforced with clear errors', () => {
  const authorized = { authorization: `Bearer ${STATIC_TOKEN}` };
  const grpcAuthorized = () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', authorized.authorization);
    return metadata;
  };
  const postJson = async (request: unknown) => {
    const response = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { ...authorized, 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    return { status: response.status, body: await response.text() };
  };
  const withAttributes = (count: number) => {
    const { request } = validJsonRequest('many-attributes', 1);
    request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes = Array.from(
      { length: count },
      (_, index) => ({
        key: `attribute.${index}`,
        value: { stringValue: 'v' },
      }),
    ) as (typeof request.resourceSpans)[0]['scopeSpans'][0]['spans'][0]['attributes'];
    return request;
  };

  it('refuses more spans per request than configured, over HTTP and gRPC, naming the limit', async () => {
    const { request } = validJsonRequest('too-many', 11);
    const http = await postJson(request);
    expect(http.status).toBe(400);
    expect(JSON.parse(http.body)).toMatchObject({ code: 'limit_exceeded' });
    expect(http.body).toMatch(/11 spans; at most 10/);
    const viaGrpc = await grpcClient.export(toProtobuf(request), grpcAuthorized());
    expect(grpc.status[viaGrpc.code]).toBe('INVALID_ARGUMENT');
    expect(viaGrpc.details).toMatch(/11 spans; at most 10/);
    expect((await postJson(validJsonRequest('just-enough', 10).request)).status).toBe(200);
  });

  it('refuses a span with more attributes than allowed, over HTTP and gRPC', async () => {
    const request = withAttributes(300);
    const http = await postJson(request);
    expect(http.status).toBe(400);
    expect(JSON.parse(http.body)).toMatchObject({ code: 'limit_exceeded' });
    expect(http.body).toMatch(/attributes/);
    const viaGrpc = await grpcClient.export(toProtobuf(request), grpcAuthorized());
    expect(grpc.status[viaGrpc.code]).toBe('INVALID_ARGUMENT');
    expect(viaGrpc.details).toMatch(/attributes/);
    expect((await postJson(withAttributes(100))).status).toBe(200);
  });

  it('cuts attribute values at the configured length and tells the exporter', async () => {
    const { request } = validJsonRequest('long-value', 1);
    request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.push({
      key: 'long.value',
      value: { stringValue: 'y'.repeat(5_000) },
    });
    const http = await postJson(request);
    expect(http.status).toBe(200);
    expect(JSON.parse(http.body)).toMatchObject({
      partialSuccess: { rejectedSpans: 0, errorMessage: expect.stringMatching(/longer than 100 characters/) },
    });
  });

  it('refuses bodies over the configured size: 413 over HTTP, RESOURCE_EXHAUSTED over gRPC', async () => {
    const { request } = validJsonRequest('z'.repeat(90_000), 1);
    const http = await postJson(request);
    expect(http.status).toBe(413);
    expect(http.body).toMatch(/larger than 65536 bytes/);
    const big = validJsonRequest('z'.repeat(300_000), 1).request;
    const viaGrpc = await grpcClient.export(toProtobuf(big), grpcAuthorized());
    expect(grpc.status[viaGrpc.code]).toBe('RESOURCE_EXHAUSTED');
    // Still serving after each refusal.
    expect((await postJson(validJsonRequest('after-limits', 1).request)).status).toBe(200);
  });
});
