import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ATTR_ERROR_TYPE,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCPSCOPE_MCP_TASK_ID,
  ATTR_MCPSCOPE_MCP_TASK_STATUS,
} from './conventions.js';
import { connectTaskServer } from './test-support/task-server.js';
import { setUpTracing, spansNamed } from './test-support/tracing.js';

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
beforeAll(async () => {
  tracing = await setUpTracing();
});
afterAll(() => tracing.tearDown());

it('a tool call that becomes a task: its id and status on the call, polling linked to it and never a tool call', async () => {
  const { callAsTask } = await connectTaskServer({
    afterMs: 50,
    status: 'completed',
    result: { content: [{ type: 'text', text: 'applied' }] },
  });
  const statuses = await callAsTask();
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
