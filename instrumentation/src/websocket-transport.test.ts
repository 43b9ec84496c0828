import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import {
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from './conventions.js';
import { setUpTracing, spansNamed } from './test-support/tracing.js';

/**
 * A server transport of the user's own over WebSocket (the SDK ships only the client side), as a
 * team serving MCP beside an existing WebSocket gateway would write it.
 */
class WebSocketServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  constructor(private readonly socket: WebSocket) {}

  async start(): Promise<void> {
    this.socket.on('message', (data) => {
      try {
        this.onmessage?.(JSON.parse(String(data)) as JSONRPCMessage);
      } catch (error) {
        this.onerror?.(error as Error);
      }
    });
    this.socket.on('close', () => this.onclose?.());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.socket.send(JSON.stringify(message));
  }

  async close(): Promise<void> {
    this.socket.close();
  }
}

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
let wss: WebSocketServer;
let port: number;
const globals = globalThis as { WebSocket?: unknown };
const hadWebSocket = 'WebSocket' in globals;

beforeAll(async () => {
  tracing = await setUpTracing();
  // The SDK's client uses the global WebSocket, which Node 20 has only behind a flag.
  if (!hadWebSocket) globals.WebSocket = WebSocket;
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket) => {
    const server = new McpServer({ name: 'ws-infra', version: '1.0.0' });
    server.registerTool('list_stacks', { inputSchema: { region: z.string() } }, async ({ region }) => ({
      content: [{ type: 'text', text: `stacks in ${region}` }],
    }));
    void server.connect(new WebSocketServerTransport(socket));
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  port = (wss.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const socket of wss.clients) socket.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  if (!hadWebSocket) delete globals.WebSocket;
  await tracing.tearDown();
});

it('records a WebSocket transport as TCP carrying the websocket protocol, on both sides of the hop', async () => {
  const client = new Client({ name: 'ws-agent', version: '1.0.0' });
  await client.connect(new WebSocketClientTransport(new URL(`ws://127.0.0.1:${port}`)));
  await client.callTool({ name: 'list_stacks', arguments: { region: 'eu-west-1' } });
  await client.close();

  const calls = spansNamed(tracing.spans(), 'tools/call list_stacks');
  const caller = calls.find((span) => span.kind === SpanKind.CLIENT);
  const server = calls.find((span) => span.kind === SpanKind.SERVER);
  for (const span of [caller, server]) {
    expect(span?.attributes[ATTR_NETWORK_TRANSPORT]).toBe('tcp');
    expect(span?.attributes[ATTR_NETWORK_PROTOCOL_NAME]).toBe('websocket');
  }
  expect(caller?.attributes[ATTR_SERVER_ADDRESS]).toBe('127.0.0.1');
  expect(caller?.attributes[ATTR_SERVER_PORT]).toBe(port);
  expect(server?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId);
});
