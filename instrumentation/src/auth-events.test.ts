import type { AddressInfo } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordAuthFailure, reasonFromChallenge } from './auth-events.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MCPSCOPE_AUTH_OUTCOME,
  ATTR_MCPSCOPE_AUTH_REASON,
  ATTR_MCPSCOPE_AUTH_SIDE,
  AUTH_SPAN_NAME,
} from './conventions.js';
import { exportedText, setUpTracing, spansNamed } from './test-support/tracing.js';

const TOKENS: Record<string, { scopes: string[]; expiresAt: number }> = {
  'good-token': { scopes: ['mcp:tools'], expiresAt: Math.floor(Date.now() / 1000) + 3600 },
  'expired-token': { scopes: ['mcp:tools'], expiresAt: Math.floor(Date.now() / 1000) - 60 },
  'read-only-token': { scopes: ['mcp:read'], expiresAt: Math.floor(Date.now() / 1000) + 3600 },
};

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
let httpServer: HttpServer;
let url: URL;

beforeAll(async () => {
  tracing = await setUpTracing();
  const app = express();
  app.use(express.json());
  const verifier = {
    async verifyAccessToken(token: string) {
      const known = TOKENS[token];
      if (!known) throw new InvalidTokenError('Invalid access token');
      return { token, clientId: 'agent', scopes: known.scopes, expiresAt: known.expiresAt };
    },
  };
  // A token endpoint: the refresh_token grant succeeds for one refresh token only.
  app.post('/token', express.urlencoded({ extended: false }), (req, res) => {
    const body = req.body as Record<string, string>;
    if (body.grant_type === 'refresh_token' && body.refresh_token === 'good-refresh') {
      res.json({ access_token: 'new-access', token_type: 'Bearer', expires_in: 60 });
    } else {
      res.status(400).json({ error: 'invalid_grant' });
    }
  });
  app.post('/mcp', requireBearerAuth({ verifier, requiredScopes: ['mcp:tools'] }), async (req, res) => {
    const server = new McpServer({ name: 'runbooks', version: '1.0.0' });
    server.registerTool('search_runbooks', {}, async () => ({ content: [{ type: 'text', text: 'found' }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  await new Promise<void>((resolve) => {
    httpServer = app.listen(0, '127.0.0.1', () => resolve());
  });
  url = new URL(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp`);
});
afterEach(() => tracing.exporter.reset());
afterAll(async () => {
  await new Promise((resolve) => httpServer.close(resolve));
  await tracing.tearDown();
});

const connectWith = async (token: string | undefined) => {
  const client = new Client({ name: 'agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(
    url,
    token === undefined ? {} : { requestInit: { headers: { Authorization: `Bearer ${token}` } } },
  );
  await client.connect(transport);
  return client;
};

const authSpans = (side: 'server' | 'client') =>
  spansNamed(tracing.spans(), AUTH_SPAN_NAME).filter(
    (span) => span.attributes[ATTR_MCPSCOPE_AUTH_SIDE] === side,
  );

describe('bearer auth on a Streamable HTTP server', () => {
  it.each([
    ['unknown-token', 401, 'invalid_token'],
    ['expired-token', 401, 'expired_token'],
    ['read-only-token', 403, 'insufficient_scope'],
  ])('a %s answer becomes an auth span on both sides (%i, %s)', async (token, status, reason) => {
    await expect(connectWith(token)).rejects.toThrow();
    for (const side of ['server', 'client'] as const) {
      const [span, ...rest] = authSpans(side);
      expect(rest, `one ${side} auth span`).toHaveLength(0);
      expect(span?.attributes[ATTR_MCPSCOPE_AUTH_OUTCOME]).toBe('failure');
      expect(span?.attributes[ATTR_MCPSCOPE_AUTH_REASON]).toBe(reason);
      expect(span?.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(status);
      expect(span?.attributes[ATTR_ERROR_TYPE]).toBe(reason);
    }
    expect(exportedText(tracing.spans())).not.toContain(token);
  });

  it('a missing token is missing_token, and a good token records no auth failure', async () => {
    await expect(connectWith(undefined)).rejects.toThrow();
    expect(authSpans('server')[0]?.attributes[ATTR_MCPSCOPE_AUTH_REASON]).toBe('missing_token');
    tracing.exporter.reset();

    const client = await connectWith('good-token');
    await client.callTool({ name: 'search_runbooks', arguments: {} });
    await client.close();
    expect(spansNamed(tracing.spans(), AUTH_SPAN_NAME)).toHaveLength(0);
    expect(spansNamed(tracing.spans(), 'tools/call search_runbooks').length).toBeGreaterThan(0);
  });
});

describe('token refreshes', () => {
  const refresh = (refreshToken: string) =>
    fetch(new URL('/token', url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });

  it('records a successful refresh_token grant as token_refreshed and a refused one as refresh_failed', async () => {
    expect((await refresh('good-refresh')).status).toBe(200);
    expect((await refresh('stale-refresh')).status).toBe(400);
    const spans = authSpans('client');
    expect(
      spans.map((span) => [
        span.attributes[ATTR_MCPSCOPE_AUTH_OUTCOME],
        span.attributes[ATTR_MCPSCOPE_AUTH_REASON],
      ]),
    ).toEqual([
      ['success', 'token_refreshed'],
      ['failure', 'refresh_failed'],
    ]);
    expect(exportedText(tracing.spans())).not.toMatch(/good-refresh|stale-refresh|new-access/);
  });

  it('leaves other requests alone', async () => {
    const response = await fetch(new URL('/token', url), {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'abc' }),
    });
    expect(response.status).toBe(400);
    expect(authSpans('client')).toHaveLength(0);
  });
});

describe('custom auth layers', () => {
  it('recordAuthFailure records a failure with a documented reason', () => {
    recordAuthFailure({ reason: 'expired_token', side: 'client' });
    const [span] = spansNamed(tracing.spans(), AUTH_SPAN_NAME);
    expect(span?.attributes[ATTR_MCPSCOPE_AUTH_REASON]).toBe('expired_token');
    expect(span?.attributes[ATTR_MCPSCOPE_AUTH_SIDE]).toBe('client');
  });

  it('maps RFC 6750 challenges to the closed set of reasons', () => {
    expect(reasonFromChallenge(401, 'Bearer')).toBe('missing_token');
    expect(
      reasonFromChallenge(401, 'Bearer error="invalid_token", error_description="Token has expired"'),
    ).toBe('expired_token');
    expect(reasonFromChallenge(401, 'Bearer error="invalid_token", error_description="bad signature"')).toBe(
      'invalid_token',
    );
    expect(reasonFromChallenge(403, 'Bearer error="insufficient_scope"')).toBe('insufficient_scope');
  });
});
