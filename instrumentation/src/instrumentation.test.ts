import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  EmptyResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_REDACTED_COUNT,
  ATTR_MCPSCOPE_RESULT_CONTENT_TYPES,
  ATTR_MCPSCOPE_RESULT_SIZE,
  ATTR_MCPSCOPE_TASK_ID,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_RESOURCE_URI,
  ATTR_RPC_RESPONSE_STATUS_CODE,
} from './conventions.js';
import { instrumentMcp } from './instrument-mcp.js';
import { withTask } from './task-context.js';
import { exportedText, setUpTracing, spansNamed } from './test-support/tracing.js';

const AWS_SECRET = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');
const GITHUB_TOKEN = `ghp_${'x1Y2z3'.repeat(6)}`;
const TOOL_ERROR_TEXT = 'plan 42 rejected: approval missing (internal detail 7f3a)';

let tracing: Awaited<ReturnType<typeof setUpTracing>>;

const buildInfraServer = () => {
  const server = new McpServer({ name: 'infra', version: '1.0.0' });
  server.registerTool(
    'plan_changes',
    {
      description: 'plan',
      inputSchema: { workspace: z.string(), credentials: z.record(z.string()).optional() },
    },
    async ({ workspace }) => ({ content: [{ type: 'text', text: `plan for ${workspace}: 3 to add` }] }),
  );
  server.registerTool('apply_plan', { inputSchema: { planId: z.string() } }, async () => ({
    isError: true,
    content: [{ type: 'text', text: TOOL_ERROR_TEXT }],
  }));
  server.registerPrompt('review_plan', { argsSchema: { planId: z.string() } }, ({ planId }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `review ${planId}` } }],
  }));
  server.registerResource(
    'state',
    new ResourceTemplate('state://{workspace}', { list: undefined }),
    {},
    async (uri) => ({ contents: [{ uri: uri.href, text: '{}' }] }),
  );
  return server;
};

const connect = async (server: { connect(transport: InMemoryTransport): Promise<void> }) => {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return client;
};

const byKind = (spans: ReadableSpan[], kind: SpanKind) => spans.filter((span) => span.kind === kind);

beforeAll(async () => {
  tracing = await setUpTracing();
});
afterEach(() => tracing.exporter.reset());
afterAll(() => tracing.tearDown());

describe('tool calls', () => {
  it('records a client and a server span per call, one trace, with the convention attributes', async () => {
    const client = instrumentMcp(await connect(buildInfraServer()));
    const args = {
      workspace: 'prod',
      credentials: { aws_secret_access_key: AWS_SECRET, token: GITHUB_TOKEN },
    };
    await client.callTool({ name: 'plan_changes', arguments: args });

    const calls = spansNamed(tracing.spans(), 'tools/call plan_changes');
    const [clientSpan] = byKind(calls, SpanKind.CLIENT);
    const [serverSpan] = byKind(calls, SpanKind.SERVER);
    expect(clientSpan).toBeDefined();
    expect(serverSpan).toBeDefined();
    if (!clientSpan || !serverSpan) return;

    expect(serverSpan.spanContext().traceId).toBe(clientSpan.spanContext().traceId);
    expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
    for (const span of [clientSpan, serverSpan]) {
      expect(span.attributes[ATTR_MCP_METHOD_NAME]).toBe('tools/call');
      expect(span.attributes[ATTR_GEN_AI_TOOL_NAME]).toBe('plan_changes');
      expect(span.attributes[ATTR_GEN_AI_OPERATION_NAME]).toBe('execute_tool');
      expect(span.attributes[ATTR_JSONRPC_REQUEST_ID]).toMatch(/^\d+$/);
      expect(span.attributes[ATTR_MCP_PROTOCOL_VERSION]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(span.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]).toMatch(/^[0-9a-f]{32}$/);
      // `credentials` is a secret key: the whole object becomes one marker.
      expect(span.attributes[ATTR_MCPSCOPE_REDACTED_COUNT]).toBe(1);
      expect(span.attributes[ATTR_MCPSCOPE_RESULT_CONTENT_TYPES]).toEqual(['text']);
      expect(span.attributes[ATTR_MCPSCOPE_RESULT_SIZE]).toBe('plan for prod: 3 to add'.length);
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.attributes[ATTR_ERROR_TYPE]).toBeUndefined();
      const recorded = JSON.parse(String(span.attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]));
      expect(recorded.workspace).toBe('prod');
    }
    expect(clientSpan.attributes[ATTR_JSONRPC_REQUEST_ID]).toBe(
      serverSpan.attributes[ATTR_JSONRPC_REQUEST_ID],
    );
    expect(clientSpan.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]).toBe(
      serverSpan.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT],
    );
    const text = exportedText(tracing.spans());
    expect(text).not.toContain(AWS_SECRET);
    expect(text).not.toContain(GITHUB_TOKEN);
    // The result is not recorded, only its size and content types.
    expect(text).not.toContain('3 to add');
  });

  it('marks isError results as tool_error without recording the result text anywhere', async () => {
    const client = await connect(buildInfraServer());
    const result = await client.callTool({ name: 'apply_plan', arguments: { planId: 'p-42' } });
    expect(result.isError).toBe(true);

    const calls = spansNamed(tracing.spans(), 'tools/call apply_plan');
    expect(calls).toHaveLength(2);
    for (const span of calls) {
      expect(span.attributes[ATTR_ERROR_TYPE]).toBe('tool_error');
      expect(span.attributes[ATTR_RPC_RESPONSE_STATUS_CODE]).toBeUndefined();
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
    }
    expect(exportedText(tracing.spans())).not.toContain('approval missing');
  });

  it('records JSON-RPC errors with their code, apart from tool errors', async () => {
    const server = new Server({ name: 'low-level', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
    server.setRequestHandler(CallToolRequestSchema, async () => {
      throw new McpError(ErrorCode.InvalidParams, 'workspace "nope" does not exist');
    });
    const client = await connect(server);
    await expect(client.callTool({ name: 'read_state', arguments: { workspace: 'nope' } })).rejects.toThrow(
      /does not exist/,
    );
    const calls = spansNamed(tracing.spans(), 'tools/call read_state');
    expect(calls).toHaveLength(2);
    for (const span of calls) {
      expect(span.attributes[ATTR_ERROR_TYPE]).toBe(String(ErrorCode.InvalidParams));
      expect(span.attributes[ATTR_RPC_RESPONSE_STATUS_CODE]).toBe('-32602');
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
    }
  });

  it('keeps an argument secret out of an error message that echoes it, on both sides', async () => {
    const password = 'Hx7!pass-0f2c9a';
    const server = new Server({ name: 'echoing', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const args = request.params.arguments as { password: string; nested: { api_key: string } };
      throw new McpError(
        ErrorCode.InvalidParams,
        `bad password ${args.password} for key ${args.nested.api_key}, user deploy`,
      );
    });
    const client = await connect(server);
    await expect(
      client.callTool({
        name: 'rotate_credentials',
        arguments: { user: 'deploy', password, nested: { api_key: 'k-4ab9c1e77d' } },
      }),
    ).rejects.toThrow(password);
    const calls = spansNamed(tracing.spans(), 'tools/call rotate_credentials');
    expect(calls).toHaveLength(2);
    for (const span of calls) {
      expect(span.status.message).toMatch(
        /^(MCP error -32602: )+bad password \[REDACTED:key_password\] for key \[REDACTED:key_api_key\], user deploy$/,
      );
    }
    expect(exportedText(tracing.spans())).not.toContain(password);
    expect(exportedText(tracing.spans())).not.toContain('k-4ab9c1e77d');
  });

  it('records a request that timed out as timeout on the caller', async () => {
    const server = new McpServer({ name: 'slow', version: '1.0.0' });
    server.registerTool('slow_refresh', {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { content: [] };
    });
    const client = await connect(server);
    await expect(
      client.callTool({ name: 'slow_refresh', arguments: {} }, undefined, { timeout: 50 }),
    ).rejects.toThrow(/timed out/i);
    const [span] = byKind(spansNamed(tracing.spans(), 'tools/call slow_refresh'), SpanKind.CLIENT);
    expect(span?.attributes[ATTR_ERROR_TYPE]).toBe('timeout');
    expect(span?.attributes[ATTR_RPC_RESPONSE_STATUS_CODE]).toBeUndefined();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('records a request its caller cancelled as cancelled on the server, though the handler finished', async () => {
    const server = new McpServer({ name: 'slow', version: '1.0.0' });
    let finished!: () => void;
    const handlerDone = new Promise<void>((resolve) => (finished = resolve));
    server.registerTool('slow_plan', {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      finished();
      return { content: [{ type: 'text', text: 'plan ready' }] };
    });
    const client = await connect(server);
    await expect(
      client.callTool({ name: 'slow_plan', arguments: {} }, undefined, { timeout: 50 }),
    ).rejects.toThrow(/timed out/i);
    await handlerDone;
    await new Promise((resolve) => setImmediate(resolve));
    const [span] = byKind(spansNamed(tracing.spans(), 'tools/call slow_plan'), SpanKind.SERVER);
    expect(span?.attributes[ATTR_ERROR_TYPE]).toBe('cancelled');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('records a call its caller aborted as cancelled on the client', async () => {
    const server = new McpServer({ name: 'slow', version: '1.0.0' });
    server.registerTool('slow_apply', {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { content: [{ type: 'text', text: 'applied' }] };
    });
    const client = await connect(server);
    const controller = new AbortController();
    const call = client.callTool({ name: 'slow_apply', arguments: {} }, undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort('operator pressed stop'), 20);
    await expect(call).rejects.toThrow();
    const [span] = byKind(spansNamed(tracing.spans(), 'tools/call slow_apply'), SpanKind.CLIENT);
    expect(span?.attributes[ATTR_ERROR_TYPE]).toBe('cancelled');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.status.message ?? '').not.toContain('operator pressed stop');
  });

  it('records a method nobody handles as -32601 on both sides', async () => {
    const client = await connect(buildInfraServer());
    await expect(
      client.request({ method: 'terraform/unlock', params: {} }, EmptyResultSchema),
    ).rejects.toThrow();
    const spans = spansNamed(tracing.spans(), 'terraform/unlock');
    expect(spans.map((span) => span.kind).sort()).toEqual([SpanKind.SERVER, SpanKind.CLIENT].sort());
    for (const span of spans) expect(span.attributes[ATTR_ERROR_TYPE]).toBe('-32601');
  });

  it('never mutates the caller’s arguments or _meta and injects trace context into a copy', async () => {
    const client = await connect(buildInfraServer());
    const meta = { 'com.example/tag': 'kept' };
    const params = { name: 'plan_changes', arguments: { workspace: 'dev' }, _meta: meta };
    await client.callTool(params);
    expect(meta).toEqual({ 'com.example/tag': 'kept' });
    expect(params.arguments).toEqual({ workspace: 'dev' });
  });

  it('omits arguments when captureArguments is off but keeps the fingerprint', async () => {
    tracing.instrumentation.setConfig({ captureArguments: 'off' });
    try {
      const client = await connect(buildInfraServer());
      await client.callTool({ name: 'plan_changes', arguments: { workspace: 'dev' } });
      for (const span of spansNamed(tracing.spans(), 'tools/call plan_changes')) {
        expect(span.attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]).toBeUndefined();
        expect(span.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]).toMatch(/^[0-9a-f]{32}$/);
      }
    } finally {
      tracing.instrumentation.setConfig({});
    }
  });
});

describe('other requests', () => {
  it('records initialize, list, prompts, resources and ping with their targets', async () => {
    const client = await connect(buildInfraServer());
    await client.listTools();
    await client.getPrompt({ name: 'review_plan', arguments: { planId: 'p-1' } });
    await client.readResource({ uri: 'state://prod' });
    await client.ping();
    const names = new Set(tracing.spans().map((span) => span.name));
    for (const name of ['initialize', 'tools/list', 'prompts/get review_plan', 'resources/read', 'ping']) {
      expect(names, name).toContain(name);
    }
    const prompt = spansNamed(tracing.spans(), 'prompts/get review_plan')[0];
    expect(prompt?.attributes[ATTR_GEN_AI_PROMPT_NAME]).toBe('review_plan');
    expect(prompt?.attributes[ATTR_GEN_AI_OPERATION_NAME]).toBeUndefined();
    const read = spansNamed(tracing.spans(), 'resources/read')[0];
    expect(read?.attributes[ATTR_MCP_RESOURCE_URI]).toBe('state://prod');
    // Notifications are at least counted: the client's initialized notification is a span on both sides.
    expect(spansNamed(tracing.spans(), 'notifications/initialized')).toHaveLength(2);
  });

  it('records an unknown resource as a JSON-RPC error', async () => {
    const client = await connect(buildInfraServer());
    await expect(client.readResource({ uri: 'file:///nowhere' })).rejects.toThrow();
    const spans = spansNamed(tracing.spans(), 'resources/read');
    expect(spans).toHaveLength(2);
    for (const span of spans) expect(span.attributes[ATTR_ERROR_TYPE]).toBe('-32602');
  });

  it('records server-to-client requests (sampling) with the sender as CLIENT', async () => {
    const server = new McpServer({ name: 'sampler', version: '1.0.0' });
    server.registerTool('summarise', {}, async () => {
      const answer = await server.server.createMessage({
        messages: [{ role: 'user', content: { type: 'text', text: 'summarise' } }],
        maxTokens: 10,
      });
      return { content: [{ type: 'text', text: String(answer.model) }] };
    });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'agent', version: '1.0.0' }, { capabilities: { sampling: {} } });
    const { CreateMessageRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: 'demo-model',
      role: 'assistant',
      content: { type: 'text', text: 'ok' },
    }));
    await server.connect(serverTransport);
    await client.connect(clientTransport);
    await client.callTool({ name: 'summarise', arguments: {} });

    const sampling = spansNamed(tracing.spans(), 'sampling/createMessage');
    expect(sampling.map((span) => span.kind).sort()).toEqual([SpanKind.SERVER, SpanKind.CLIENT].sort());
    const toolServerSpan = byKind(spansNamed(tracing.spans(), 'tools/call summarise'), SpanKind.SERVER)[0];
    const samplingClientSpan = byKind(sampling, SpanKind.CLIENT)[0];
    expect(samplingClientSpan?.parentSpanContext?.spanId).toBe(toolServerSpan?.spanContext().spanId);
  });
});

describe('handlers registered before the instrumentation', () => {
  it('wraps handlers that existed before the instrumentation was enabled', async () => {
    tracing.instrumentation.disable();
    const server = new Server({ name: 'early', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [] }));
    const client = await connect(server);
    tracing.instrumentation.enable();
    instrumentMcp(client);
    await client.callTool({ name: 'early_tool', arguments: {} });
    const spans = spansNamed(tracing.spans(), 'tools/call early_tool');
    expect(spans.map((span) => span.kind).sort()).toEqual([SpanKind.SERVER, SpanKind.CLIENT].sort());
  });

  it('records nothing while disabled', async () => {
    const client = await connect(buildInfraServer());
    tracing.instrumentation.disable();
    tracing.exporter.reset();
    try {
      await client.callTool({ name: 'plan_changes', arguments: { workspace: 'dev' } });
      expect(tracing.spans()).toHaveLength(0);
    } finally {
      tracing.instrumentation.enable();
      instrumentMcp(client);
    }
  });
});

describe('tasks', () => {
  it('carries an explicit task id in baggage to every span of the task, across the hop', async () => {
    const client = await connect(buildInfraServer());
    await withTask('task-plan-prod', () =>
      client.callTool({ name: 'plan_changes', arguments: { workspace: 'prod' } }),
    );
    const calls = spansNamed(tracing.spans(), 'tools/call plan_changes');
    expect(calls).toHaveLength(2);
    for (const span of calls) expect(span.attributes[ATTR_MCPSCOPE_TASK_ID]).toBe('task-plan-prod');
  });
});
