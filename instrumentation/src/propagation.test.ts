import { SpanKind } from '@opentelemetry/api';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { ATTR_MCPSCOPE_TASK_ID } from './conventions.js';
import { instrumentMcp } from './instrument-mcp.js';
import { withTask } from './task-context.js';
import { setUpTracing, spansNamed } from './test-support/tracing.js';

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
beforeAll(async () => {
  tracing = await setUpTracing();
});
afterAll(() => tracing.tearDown());

const link = async (server: McpServer, name: string) => {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name, version: '1.0.0' });
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return instrumentMcp(client);
};

it('client → server A → (a tool that calls) server B is one trace with correct parents', async () => {
  const serverB = new McpServer({ name: 'state-store', version: '1.0.0' });
  serverB.registerTool('read_state', { inputSchema: { workspace: z.string() } }, async ({ workspace }) => ({
    content: [{ type: 'text', text: `state of ${workspace}` }],
  }));
  const clientOfB = await link(serverB, 'infra-to-state');

  const serverA = new McpServer({ name: 'infra', version: '1.0.0' });
  serverA.registerTool('plan_changes', { inputSchema: { workspace: z.string() } }, async ({ workspace }) => {
    await clientOfB.callTool({ name: 'read_state', arguments: { workspace } });
    return { content: [{ type: 'text', text: 'planned' }] };
  });
  const agent = await link(serverA, 'agent');
  tracing.exporter.reset();

  await withTask('task-42', () => agent.callTool({ name: 'plan_changes', arguments: { workspace: 'prod' } }));

  const spans = tracing.spans();
  const plan = spansNamed(spans, 'tools/call plan_changes');
  const read = spansNamed(spans, 'tools/call read_state');
  const agentClient = plan.find((span) => span.kind === SpanKind.CLIENT);
  const serverASpan = plan.find((span) => span.kind === SpanKind.SERVER);
  const aClient = read.find((span) => span.kind === SpanKind.CLIENT);
  const serverBSpan = read.find((span) => span.kind === SpanKind.SERVER);
  for (const span of [agentClient, serverASpan, aClient, serverBSpan]) expect(span).toBeDefined();
  if (!agentClient || !serverASpan || !aClient || !serverBSpan) return;

  const traceIds = new Set(
    [agentClient, serverASpan, aClient, serverBSpan].map((span) => span.spanContext().traceId),
  );
  expect(traceIds.size).toBe(1);
  expect(serverASpan.parentSpanContext?.spanId).toBe(agentClient.spanContext().spanId);
  expect(aClient.parentSpanContext?.spanId).toBe(serverASpan.spanContext().spanId);
  expect(serverBSpan.parentSpanContext?.spanId).toBe(aClient.spanContext().spanId);
  // The task id crossed both hops in baggage.
  for (const span of [agentClient, serverASpan, aClient, serverBSpan]) {
    expect(span.attributes[ATTR_MCPSCOPE_TASK_ID]).toBe('task-42');
  }
});
