import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ATTR_ERROR_TYPE,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCPSCOPE_MCP_TASK_ID,
  ATTR_MCPSCOPE_MCP_TASK_STATUS,
} from './conventions.js';
import { setUpTracing, spansNamed } from './test-support/tracing.js';

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
beforeAll(async () => {
  tracing = await setUpTracing();
});
afterAll(() => tracing.tearDown());

it('a tool call that becomes a task: its id and status on the call, polling linked to it and never a tool call', async () => {
  const taskStore = new InMemoryTaskStore();
  const server = new McpServer(
    { name: 'infra', version: '1.0.0' },
    { capabilities: { tools: {}, tasks: { requests: { tools: { call: {} } } } }, taskStore },
  );
  server.experimental.tasks.registerToolTask(
    'long_apply',
    { inputSchema: { plan: z.string() }, execution: { taskSupport: 'required' } },
    {
      createTask: async (_args, extra) => {
        const task = await extra.taskStore.createTask({ ttl: 60_000 });
        setTimeout(() => {
          void extra.taskStore.storeTaskResult(task.taskId, 'completed', {
            content: [{ type: 'text', text: 'applied' }],
          });
        }, 50);
        return { task };
      },
      getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
      // The store keeps what `storeTaskResult` was given: the tool's result.
      getTaskResult: async (_args, extra) =>
        (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    },
  );
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(clientTransport);
  await client.listTools();
  const statuses: string[] = [];
  for await (const message of client.experimental.tasks.callToolStream({
    name: 'long_apply',
    arguments: { plan: 'p-1' },
  })) {
    if (message.type === 'taskCreated' || message.type === 'taskStatus') statuses.push(message.task.status);
  }
  expect(statuses.at(-1)).toBe('completed');

  const spans = tracing.spans();
  const [call] = spansNamed(spans, 'tools/call long_apply').filter((span) => span.kind === SpanKind.CLIENT);
  expect(call).toBeDefined();
  const taskId = call?.attributes[ATTR_MCPSCOPE_MCP_TASK_ID];
  expect(taskId).toMatch(/\S/);
  expect(call?.attributes[ATTR_MCPSCOPE_MCP_TASK_STATUS]).toBe('working');
  expect(call?.status.code).toBe(SpanStatusCode.UNSET);
  expect(call?.attributes[ATTR_ERROR_TYPE]).toBeUndefined();

  const polls = spansNamed(spans, 'tasks/get').filter((span) => span.kind === SpanKind.CLIENT);
  expect(polls.length).toBeGreaterThan(0);
  for (const poll of polls) {
    expect(poll.attributes[ATTR_MCPSCOPE_MCP_TASK_ID]).toBe(taskId);
    expect(poll.links.map((link) => link.context.spanId)).toEqual([call?.spanContext().spanId]);
  }
  expect(polls.at(-1)?.attributes[ATTR_MCPSCOPE_MCP_TASK_STATUS]).toBe('completed');
  // Only the creating request is a tools/call; polling and fetching the result are task methods.
  const toolCalls = spans.filter((span) => span.attributes[ATTR_MCP_METHOD_NAME] === 'tools/call');
  expect(toolCalls).toHaveLength(2);
  const result = spansNamed(spans, 'tasks/result').filter((span) => span.kind === SpanKind.CLIENT);
  expect(result[0]?.attributes[ATTR_MCPSCOPE_MCP_TASK_ID]).toBe(taskId);
});
