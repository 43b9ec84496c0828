import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** How the task a `long_apply` call creates ends, some time after it was created. */
export interface TaskEnding {
  afterMs: number;
  status: 'completed' | 'failed';
  result: CallToolResult;
}

/**
 * An SDK 1.x server whose tool `long_apply` runs as a task (the SDK's experimental tasks), connected in
 * memory to a client; `callAsTask` calls it and follows the task to its end, returning the statuses seen.
 */
export const connectTaskServer = async (ending: TaskEnding) => {
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
          void extra.taskStore.storeTaskResult(task.taskId, ending.status, ending.result);
        }, ending.afterMs);
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
  return {
    client,
    async callAsTask(): Promise<string[]> {
      const statuses: string[] = [];
      for await (const message of client.experimental.tasks.callToolStream({
        name: 'long_apply',
        arguments: { plan: 'p-1' },
      })) {
        if (message.type === 'taskCreated' || message.type === 'taskStatus')
          statuses.push(message.task.status);
      }
      return statuses;
    },
  };
};
