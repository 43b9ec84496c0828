import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, createAuthObservingFetch, InMemoryOAuthClient, type AuthEvent } from './oauth-client.mjs';
import { exampleScript, startHttpServer, testEnv, type HttpServerProcess } from './test-support/processes.js';

const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

describe('runbook server over stdio', () => {
  let client: Client;

  beforeAll(async () => {
    client = new Client({ name: 'runbook-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [exampleScript('runbook-server.cjs')],
        env: testEnv({ OTEL_SERVICE_NAME: 'runbook-server-test' }) as Record<string, string>,
        stderr: 'ignore',
      }),
    );
  });
  afterAll(() => client.close());

  it('searches runbooks, opens tickets and pages on-call', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['search_runbooks', 'open_ticket', 'page_oncall']);
    const found = await call(client, 'search_runbooks', { query: 'database failover' });
    expect(found.structuredContent).toEqual({
      runbooks: [expect.objectContaining({ id: 'RB-101' }), expect.objectContaining({ id: 'RB-102' })],
    });
    const ticket = await call(client, 'open_ticket', {
      title: 'Disk full',
      severity: 'low',
      description: 'db-3',
    });
    expect(ticket.structuredContent).toMatchObject({ ticketId: 'INC-1001', status: 'open' });
    const page = await call(client, 'page_oncall', {
      service: 'inventory-db',
      severity: 'high',
      summary: 'down',
    });
    expect(page.structuredContent).toMatchObject({ paged: 'dba-primary' });
  });

  it('answers an unknown service or malformed arguments with a JSON-RPC invalid-params error', async () => {
    for (const args of [
      { service: 'inventroy-db', severity: 'high', summary: 'down' },
      { service: 'inventory-db', severity: 'urgent', summary: 'down' },
    ]) {
      const failure = await call(client, 'page_oncall', args).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(McpError);
      expect((failure as McpError).code).toBe(ErrorCode.InvalidParams);
    }
  });
});

describe('runbook server over Streamable HTTP with bearer auth', () => {
  let server: HttpServerProcess;
  const ttlSeconds = 1;

  beforeAll(async () => {
    server = await startHttpServer('runbook-server.cjs', ['--access-token-ttl', String(ttlSeconds)]);
  });
  afterAll(() => server.stop());

  const observed = () => {
    const events: AuthEvent[] = [];
    return { events, fetch: createAuthObservingFetch((event) => events.push(event)) };
  };

  const authorizedClient = async (scope: string, fetchFn: typeof fetch) => {
    const provider = new InMemoryOAuthClient({ scope, fetchFn });
    await authorize(provider, server.url);
    return provider;
  };

  it('advertises its authorization server, with the refresh_token grant', async () => {
    const resource = await (
      await fetch(new URL('/.well-known/oauth-protected-resource/mcp', server.url))
    ).json();
    expect(resource).toMatchObject({
      resource: server.url.href,
      scopes_supported: ['runbooks', 'status:read'],
    });
    const metadata = (await (
      await fetch(new URL('/.well-known/oauth-authorization-server', server.url))
    ).json()) as {
      grant_types_supported: string[];
    };
    expect(metadata.grant_types_supported).toContain('refresh_token');
  });

  it('answers 401 with a bearer challenge without a token and with a forged one', async () => {
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} };
    const credentials: Array<Record<string, string>> = [{}, { Authorization: 'Bearer forged-token-value' }];
    for (const headers of credentials) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: JSON.stringify(initialize),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    }
    const client = new Client({ name: 'forged', version: '1.0.0' });
    const failure = await client
      .connect(
        new StreamableHTTPClientTransport(server.url, {
          requestInit: { headers: { Authorization: 'Bearer forged-token-value' } },
        }),
      )
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StreamableHTTPError);
    expect((failure as StreamableHTTPError).code).toBe(401);
  });

  it('answers 403 insufficient_scope to a valid token without the runbooks scope', async () => {
    const { events, fetch: authFetch } = observed();
    const provider = await authorizedClient('status:read', authFetch);
    expect(provider.tokens()?.scope).toBe('status:read');
    const client = new Client({ name: 'status-only', version: '1.0.0' });
    const failure = await client
      .connect(
        new StreamableHTTPClientTransport(server.url, {
          fetch: authFetch,
          requestInit: { headers: { Authorization: `Bearer ${provider.tokens()?.access_token}` } },
        }),
      )
      .catch((error: unknown) => error);
    expect((failure as StreamableHTTPError).code).toBe(403);
    expect(events).toEqual([{ kind: 'challenge', httpStatus: 403, reason: 'insufficient_scope' }]);
  });

  it('refreshes an expired access token through the SDK OAuth flow and completes the call', async () => {
    const { events, fetch: authFetch } = observed();
    const provider = await authorizedClient('runbooks', authFetch);
    const firstAccessToken = provider.tokens()?.access_token;
    const client = new Client({ name: 'oauth', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(server.url, { fetch: authFetch, authProvider: provider }),
    );
    expect((await call(client, 'search_runbooks', { query: 'replica lag' })).isError).toBeFalsy();
    expect(events).toEqual([]);

    await sleep(Math.max(0, (provider.accessTokenExpiresAt() ?? 0) - Date.now()) + 250);
    const page = await call(client, 'page_oncall', {
      service: 'web-frontend',
      severity: 'low',
      summary: 'slow',
    });
    expect(page.structuredContent).toMatchObject({ paged: 'web-oncall' });
    expect(events).toEqual([
      { kind: 'challenge', httpStatus: 401, reason: 'expired_token' },
      { kind: 'refresh', httpStatus: 200 },
    ]);
    expect(provider.tokens()?.access_token).not.toBe(firstAccessToken);
    await client.close();
  });

  it('rotates refresh tokens: a used one is refused', async () => {
    const provider = await authorizedClient('runbooks', fetch);
    const tokens = provider.tokens()!;
    const clientId = provider.clientInformation()!.client_id;
    const refresh = () =>
      fetch(new URL('/token', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token!,
          client_id: clientId,
        }),
      });
    expect((await refresh()).status).toBe(200);
    const reused = await refresh();
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: 'invalid_grant' });
  });
});
