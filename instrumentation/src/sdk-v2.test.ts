import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport,
  type ProtocolError as ProtocolErrorType,
} from '@modelcontextprotocol/client';
import {
  acceptedContent,
  createMcpHandler,
  InMemoryTransport,
  inputRequired,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  Server,
} from '@modelcontextprotocol/server';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport as InMemoryTransportV1 } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod4';
import { z as z3 } from 'zod';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_SESSION_ID,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_CLIENT_NAME,
  ATTR_MCPSCOPE_CLIENT_VERSION,
  ATTR_MCPSCOPE_CONTINUATION,
  ATTR_MCPSCOPE_INPUT_REQUIRED,
  ATTR_MCPSCOPE_INPUT_REQUIRED_KINDS,
  ATTR_MCPSCOPE_INPUT_REQUIRED_ROUNDS,
  ATTR_MCPSCOPE_INPUT_REQUIRED_WAIT_MS,
  ATTR_MCPSCOPE_REDACTED_COUNT,
  ATTR_NETWORK_TRANSPORT,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  EVENT_MCPSCOPE_INPUT_REQUIRED,
} from './conventions.js';
import { exportedText, setUpTracing, spansNamed } from './test-support/tracing.js';

const GITHUB_TOKEN = `ghp_${'q9W8e7'.repeat(6)}`;
const TOOL_ERROR_TEXT = 'apply refused: workspace locked (holder 7f3a)';
const ANSWER_DELAY_MS = 40;

let tracing: Awaited<ReturnType<typeof setUpTracing>>;

beforeAll(async () => {
  tracing = await setUpTracing();
});
afterEach(() => tracing.exporter.reset());
afterAll(() => tracing.tearDown());

const byKind = (spans: ReadableSpan[], kind: SpanKind) => spans.filter((span) => span.kind === kind);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A v2 McpServer with the tools an infrastructure agent calls, as a factory (one per request over HTTP). */
const infraServer = () => {
  const server = new McpServer({ name: 'infra-v2', version: '2.0.0' });
  server.registerTool(
    'plan_changes',
    { inputSchema: z.object({ workspace: z.string(), token: z.string().optional() }) },
    async ({ workspace }) => ({ content: [{ type: 'text', text: `plan for ${workspace}: 2 to change` }] }),
  );
  server.registerTool('apply_plan', { inputSchema: z.object({ planId: z.string() }) }, async () => ({
    isError: true,
    content: [{ type: 'text', text: TOOL_ERROR_TEXT }],
  }));
  server.registerTool('crash', { inputSchema: z.object({}) }, async () => {
    throw new Error('state backend unreachable');
  });
  server.registerTool('deploy', { inputSchema: z.object({ env: z.string() }) }, async ({ env }, ctx) => {
    const confirmed = acceptedContent(
      ctx.mcpReq.inputResponses,
      'confirm',
      z.object({ confirm: z.boolean() }),
    );
    if (confirmed?.confirm !== true) {
      return inputRequired({
        inputRequests: {
          confirm: inputRequired.elicit({
            message: `Deploy to ${env}?`,
            requestedSchema: {
              type: 'object',
              properties: { confirm: { type: 'boolean' } },
              required: ['confirm'],
            },
          }),
        },
      });
    }
    return { content: [{ type: 'text', text: `deployed to ${env}` }] };
  });
  return server;
};

/** The `Mcp-Method` and `Mcp-Name` headers of every HTTP request the v2 client sent (2026-07-28). */
const sentHeaders: Array<{ method: string | null; name: string | null }> = [];

/** A v2 client over Streamable HTTP served in-process by `createMcpHandler` (both eras from one entry). */
const modernClient = async (mode: 'auto' | 'legacy') => {
  const handler = createMcpHandler(infraServer);
  const transport = new StreamableHTTPClientTransport(new URL('http://infra.internal:8080/mcp'), {
    fetch: (url, init) => {
      const request = new Request(url, init);
      sentHeaders.push({ method: request.headers.get('mcp-method'), name: request.headers.get('mcp-name') });
      return handler.fetch(request);
    },
  });
  const client = new ClientV2(
    { name: 'terraform-agent', version: '3.1.0' },
    { versionNegotiation: { mode }, capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler('elicitation/create', async () => {
    await sleep(ANSWER_DELAY_MS);
    return { action: 'accept', content: { confirm: true } };
  });
  await client.connect(transport);
  return client;
};

const callPair = (name: string) => {
  const spans = spansNamed(tracing.spans(), name);
  return { client: byKind(spans, SpanKind.CLIENT), server: byKind(spans, SpanKind.SERVER) };
};

describe('SDK v2, protocol 2026-07-28 over Streamable HTTP', () => {
  it('records both sides of a call with the convention attributes, identity from _meta and no session', async () => {
    const client = await modernClient('auto');
    expect(client.getProtocolEra()).toBe('modern');
    await client.callTool({ name: 'plan_changes', arguments: { workspace: 'prod', token: GITHUB_TOKEN } });

    const { client: [caller] = [], server: [receiver] = [] } = callPair('tools/call plan_changes');
    expect(caller).toBeDefined();
    expect(receiver).toBeDefined();
    if (!caller || !receiver) return;
    expect(receiver.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(receiver.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
    for (const span of [caller, receiver]) {
      expect(span.attributes[ATTR_MCP_METHOD_NAME]).toBe('tools/call');
      expect(span.attributes[ATTR_GEN_AI_TOOL_NAME]).toBe('plan_changes');
      expect(span.attributes[ATTR_GEN_AI_OPERATION_NAME]).toBe('execute_tool');
      expect(span.attributes[ATTR_MCP_PROTOCOL_VERSION]).toBe('2026-07-28');
      expect(span.attributes[ATTR_MCP_SESSION_ID]).toBeUndefined();
      expect(span.attributes[ATTR_NETWORK_TRANSPORT]).toBe('tcp');
      expect(span.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]).toMatch(/^[0-9a-f]{32}$/);
      expect(span.attributes[ATTR_MCPSCOPE_REDACTED_COUNT]).toBe(1);
      expect(JSON.parse(String(span.attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS])).workspace).toBe('prod');
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
    }
    expect(caller.attributes[ATTR_JSONRPC_REQUEST_ID]).toBe(receiver.attributes[ATTR_JSONRPC_REQUEST_ID]);
    expect(caller.attributes[ATTR_SERVER_ADDRESS]).toBe('infra.internal');
    // The server reads who called from the request's own `_meta` (there is no initialize).
    expect(receiver.attributes[ATTR_MCPSCOPE_CLIENT_NAME]).toBe('terraform-agent');
    expect(receiver.attributes[ATTR_MCPSCOPE_CLIENT_VERSION]).toBe('3.1.0');
    expect(exportedText(tracing.spans())).not.toContain(GITHUB_TOKEN);
    // The HTTP request's `Mcp-Method` and `Mcp-Name` headers agree with the span.
    expect(sentHeaders).toContainEqual({
      method: caller.attributes[ATTR_MCP_METHOD_NAME],
      name: caller.attributes[ATTR_GEN_AI_TOOL_NAME],
    });
    // The discovery probe replaces initialize.
    expect(spansNamed(tracing.spans(), 'initialize')).toHaveLength(0);
    expect(byKind(spansNamed(tracing.spans(), 'server/discover'), SpanKind.SERVER)).toHaveLength(1);
  });

  it('keeps tool errors (isError, and errors thrown in an McpServer tool) apart from JSON-RPC errors', async () => {
    const client = await modernClient('auto');
    await client.callTool({ name: 'apply_plan', arguments: { planId: 'p-1' } });
    await client.callTool({ name: 'crash', arguments: {} });
    const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} }).catch((e: unknown) => e);
    expect((unknown as ProtocolErrorType).code).toBe(-32602);

    for (const name of ['tools/call apply_plan', 'tools/call crash']) {
      const { client: callers, server: receivers } = callPair(name);
      expect(callers).toHaveLength(1);
      expect(receivers).toHaveLength(1);
      for (const span of [...callers, ...receivers]) {
        expect(span.attributes[ATTR_ERROR_TYPE]).toBe('tool_error');
        expect(span.attributes[ATTR_RPC_RESPONSE_STATUS_CODE]).toBeUndefined();
        expect(span.status.code).toBe(SpanStatusCode.ERROR);
        // The result text is the tool's business: never the status message.
        expect(span.status.message ?? '').not.toContain('holder 7f3a');
      }
    }
    const { client: [caller] = [], server: [receiver] = [] } = callPair('tools/call no_such_tool');
    for (const span of [caller, receiver]) {
      expect(span?.attributes[ATTR_ERROR_TYPE]).toBe('-32602');
      expect(span?.attributes[ATTR_RPC_RESPONSE_STATUS_CODE]).toBe('-32602');
    }
  });

  it('records an input_required round trip as one call: rounds, what was asked, the wait, no failure', async () => {
    const client = await modernClient('auto');
    const result = await client.callTool({ name: 'deploy', arguments: { env: 'prod' } });
    expect(result.content).toEqual([{ type: 'text', text: 'deployed to prod' }]);

    const { client: callers, server: rounds } = callPair('tools/call deploy');
    expect(callers).toHaveLength(1);
    const [caller] = callers;
    if (!caller) return;
    expect(caller.attributes[ATTR_MCPSCOPE_INPUT_REQUIRED_ROUNDS]).toBe(1);
    expect(caller.attributes[ATTR_MCPSCOPE_INPUT_REQUIRED_KINDS]).toEqual(['elicitation']);
    expect(Number(caller.attributes[ATTR_MCPSCOPE_INPUT_REQUIRED_WAIT_MS])).toBeGreaterThanOrEqual(
      ANSWER_DELAY_MS - 5,
    );
    expect(caller.events.map((event) => event.name)).toEqual([EVENT_MCPSCOPE_INPUT_REQUIRED]);
    expect(caller.status.code).toBe(SpanStatusCode.UNSET);
    expect(caller.attributes[ATTR_ERROR_TYPE]).toBeUndefined();

    // The server saw two requests; both are rounds of the caller's one call, neither failed.
    expect(rounds).toHaveLength(2);
    const [asked, answered] = [...rounds].sort((a, b) =>
      a.attributes[ATTR_MCPSCOPE_CONTINUATION] === true
        ? 1
        : b.attributes[ATTR_MCPSCOPE_CONTINUATION]
          ? -1
          : 0,
    );
    for (const span of rounds) {
      expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.attributes[ATTR_ERROR_TYPE]).toBeUndefined();
    }
    expect(asked?.attributes[ATTR_MCPSCOPE_INPUT_REQUIRED]).toBe(true);
    expect(asked?.attributes[ATTR_MCPSCOPE_INPUT_REQUIRED_KINDS]).toEqual(['elicitation']);
    expect(answered?.attributes[ATTR_MCPSCOPE_CONTINUATION]).toBe(true);
    expect(answered?.attributes[ATTR_MCPSCOPE_INPUT_REQUIRED]).toBeUndefined();
  });
});

describe('SDK v2, legacy era', () => {
  it('negotiates with initialize and records the negotiated version, over HTTP and in memory', async () => {
    const client = await modernClient('legacy');
    expect(client.getProtocolEra()).toBe('legacy');
    await client.callTool({ name: 'plan_changes', arguments: { workspace: 'stage' } });
    const { client: [caller] = [], server: [receiver] = [] } = callPair('tools/call plan_changes');
    expect(caller?.attributes[ATTR_MCP_PROTOCOL_VERSION]).toMatch(/^2025-/);
    expect(receiver?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId);
    expect(spansNamed(tracing.spans(), 'initialize').length).toBeGreaterThan(0);
  });

  it('observes a low-level Server: JSON-RPC errors carry their code on both sides', async () => {
    const server = new Server({ name: 'low-level', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler('tools/list', async () => ({
      tools: [{ name: 'unlock', inputSchema: { type: 'object' } }],
    }));
    server.setRequestHandler('tools/call', async (request) => {
      if (request.params.name === 'unlock')
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'lock id missing');
      return { content: [] };
    });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new ClientV2({ name: 'agent', version: '1.0.0' });
    await client.connect(clientTransport);
    await expect(client.callTool({ name: 'unlock', arguments: {} })).rejects.toThrow('lock id missing');

    const { client: [caller] = [], server: [receiver] = [] } = callPair('tools/call unlock');
    for (const span of [caller, receiver]) {
      expect(span?.attributes[ATTR_ERROR_TYPE]).toBe('-32602');
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    }
    expect(receiver?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId);
  });
});

describe('v1 and v2 in one process (a gateway)', () => {
  it('carries one trace across a v1 client → v2 server and a v2 client → v1 server hop', async () => {
    // v1 client → v2 server
    const v2Server = infraServer();
    const [toV2Client, toV2Server] = InMemoryTransport.createLinkedPair();
    await v2Server.connect(toV2Server);
    const v1Client = new ClientV1({ name: 'gateway-v1', version: '1.0.0' });
    await v1Client.connect(toV2Client);
    await v1Client.callTool({ name: 'plan_changes', arguments: { workspace: 'edge' } });

    // v2 client → v1 server
    const v1Server = new McpServerV1({ name: 'runbooks-v1', version: '1.0.0' });
    v1Server.registerTool('lookup', { inputSchema: { topic: z3.string() } }, async ({ topic }) => ({
      content: [{ type: 'text', text: `runbook for ${topic}` }],
    }));
    const [toV1Client, toV1Server] = InMemoryTransportV1.createLinkedPair();
    await v1Server.connect(toV1Server);
    const v2Client = new ClientV2({ name: 'gateway-v2', version: '2.0.0' });
    await v2Client.connect(toV1Client);
    await v2Client.callTool({ name: 'lookup', arguments: { topic: 'stuck lock' } });

    for (const name of ['tools/call plan_changes', 'tools/call lookup']) {
      const { client: [caller] = [], server: [receiver] = [] } = callPair(name);
      expect(caller, name).toBeDefined();
      expect(receiver, name).toBeDefined();
      expect(receiver?.spanContext().traceId).toBe(caller?.spanContext().traceId);
      expect(receiver?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId);
      expect(receiver?.attributes[ATTR_MCPSCOPE_CLIENT_NAME]).toMatch(/^gateway-v[12]$/);
    }
  });
});
