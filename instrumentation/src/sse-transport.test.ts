import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { ATTR_MCP_SESSION_ID, ATTR_NETWORK_TRANSPORT, ATTR_SERVER_PORT } from './conventions.js';
import { setUpTracing, spansNamed } from './test-support/tracing.js';

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
let http: HttpServer;
let baseUrl: string;

beforeAll(async () => {
  tracing = await setUpTracing();
  // The legacy HTTP+SSE transport: one GET stream per session, messages POSTed with ?sessionId.
  const transports = new Map<string, SSEServerTransport>();
  http = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method === 'GET' && url.pathname === '/sse') {
      const transport = new SSEServerTransport('/messages', response);
      transports.set(transport.sessionId, transport);
      const server = new McpServer({ name: 'sse-infra', version: '1.0.0' });
      server.registerTool('list_stacks', { inputSchema: { region: z.string() } }, async ({ region }) => ({
        content: [{ type: 'text', text: `stacks in ${region}` }],
      }));
      void server.connect(transport);
      return;
    }
    const transport = transports.get(url.searchParams.get('sessionId') ?? '');
    if (request.method === 'POST' && url.pathname === '/messages' && transport) {
      void transport.handlePostMessage(request, response);
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  await tracing.tearDown();
});

it('records the session, transport and server port on both sides of the legacy SSE transport', async () => {
  const client = new Client({ name: 'sse-agent', version: '1.0.0' });
  await client.connect(new SSEClientTransport(new URL(`${baseUrl}/sse`)));
  await client.callTool({ name: 'list_stacks', arguments: { region: 'eu-west-1' } });
  await client.close();

  const calls = spansNamed(tracing.spans(), 'tools/call list_stacks');
  const caller = calls.find((span) => span.kind === SpanKind.CLIENT);
  const server = calls.find((span) => span.kind === SpanKind.SERVER);
  expect(server?.attributes[ATTR_MCP_SESSION_ID]).toMatch(/^[0-9a-f-]{36}$/);
  expect(caller?.attributes[ATTR_MCP_SESSION_ID]).toBe(server?.attributes[ATTR_MCP_SESSION_ID]);
  expect(caller?.attributes[ATTR_NETWORK_TRANSPORT]).toBe('tcp');
  expect(caller?.attributes[ATTR_SERVER_PORT]).toBe(Number(new URL(baseUrl).port));
  expect(server?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId);
});
