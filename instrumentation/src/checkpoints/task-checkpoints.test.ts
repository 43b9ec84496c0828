import { SpanKind } from '@opentelemetry/api';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  InMemoryTaskMessageQueue,
  InMemoryTaskStore,
} from '@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitRequestSchema, ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCPSCOPE_CHECKPOINT_KIND,
  ATTR_MCPSCOPE_CHECKPOINT_OUTCOME,
  ATTR_MCPSCOPE_CHECKPOINT_STEP,
  ATTR_MCPSCOPE_MCP_TASK_ID,
} from '../conventions.js';
import { setUpTracing } from '../test-support/tracing.js';

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
beforeAll(async () => {
  tracing = await setUpTracing();
});
afterAll(() => tracing.tearDown());

describe('a task in input_required (SDK v1 tasks)', () => {
  it('is a task_input_required checkpoint: proposed when the task asks, decided by the answer', async () => {
    const taskStore = new InMemoryTaskStore();
    const server = new McpServer(
      { name: 'infra', version: '1.0.0' },
      {
        capabilities: { tools: {}, tasks: { requests: { tools: { call: {} } } } },
        taskStore,
        taskMessageQueue: new InMemoryTaskMessageQueue(),
      },
    );
    server.experimental.tasks.registerToolTask(
      'long_apply',
      { inputSchema: { plan: z.string() }, execution: { taskSupport: 'required' } },
      {
        createTask: async (_args, extra) => {
          const task = await extra.taskStore.createTask({ ttl: 60_000 });
          void (async () => {
            // The task waits for its operator: input_required until the elicitation is answered.
            await extra.taskStore.updateTaskStatus(task.taskId, 'input_required');
            const answer = await server.server.request(
              {
                method: 'elicitation/create',
                params: { message: 'Apply?', requestedSchema: { type: 'object', properties: {} } },
              },
              ElicitResultSchema,
              { relatedTask: { taskId: task.taskId } },
            );
            await extra.taskStore.storeTaskResult(task.taskId, 'completed', {
              content: [{ type: 'text', text: answer.action }],
            });
          })();
          return { task };
        },
        getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
        getTaskResult: async (_args, extra) => extra.taskStore.getTaskResult(extra.taskId) as never,
      },
    );
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client(
      { name: 'agent', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: {} }));
    await client.connect(clientTransport);
    await client.listTools();
    const seen: string[] = [];
    for await (const message of client.experimental.tasks.callToolStream({
      name: 'long_apply',
      arguments: { plan: 'p-1' },
    })) {
      seen.push(message.type);
    }
    expect(seen).toContain('result');

    const steps = tracing
      .spans()
      .filter((span) => span.attributes[ATTR_MCPSCOPE_CHECKPOINT_STEP] !== undefined)
      .map((span) => ({
        kind: span.kind,
        step: span.attributes[ATTR_MCPSCOPE_CHECKPOINT_STEP],
        checkpointKind: span.attributes[ATTR_MCPSCOPE_CHECKPOINT_KIND],
        tool: span.attributes[ATTR_GEN_AI_TOOL_NAME],
        outcome: span.attributes[ATTR_MCPSCOPE_CHECKPOINT_OUTCOME],
        task: span.attributes[ATTR_MCPSCOPE_MCP_TASK_ID],
      }));
    const taskId = tracing.spans().find((span) => span.name === 'tools/call long_apply')?.attributes[
      ATTR_MCPSCOPE_MCP_TASK_ID
    ];
    expect(taskId).toEqual(expect.any(String));
    expect(steps).toEqual([
      {
        kind: SpanKind.INTERNAL,
        step: 'propose',
        checkpointKind: 'task_input_required',
        tool: 'long_apply',
        outcome: undefined,
        task: taskId,
      },
      {
        kind: SpanKind.INTERNAL,
        step: 'decide',
        checkpointKind: 'task_input_required',
        tool: 'long_apply',
        outcome: 'approved',
        task: taskId,
      },
    ]);
  });
});
