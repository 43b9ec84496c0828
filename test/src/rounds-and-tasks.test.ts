import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client as ClientV2, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { acceptedContent, createMcpHandler, inputRequired, McpServer } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z4 from 'zod4';
import { McpInstrumentation, TaskIdSpanProcessor, withTask } from '@mcpscope/instrumentation';
import { connectTaskServer, type TaskEnding } from '../../instrumentation/src/test-support/task-server.js';
import { startCollectorProcess, type CollectorProcess } from './support/collector-process.js';
import { eventually, freePort } from './support/processes.js';

/**
 * Protocol 2026-07-28's multi-request calls, from real SDKs through the real exporter into a real
 * collector: what `/api/tasks/:id` says of them is what the programs did.
 */

interface CallView {
  tool: string;
  outcome: string;
  errorType: string | null;
  retryOf: string | null;
  durationMs: number;
  inputRequired?: { rounds: number; waitMs: number };
  mcpTask?: { taskId: string; status: string | null };
}
interface TaskView {
  task: { toolCalls: number; failedCalls: number; retries: number; outcome: string };
  calls: CallView[];
}

let collector: CollectorProcess;
let dir: string;
let provider: BasicTracerProvider;
let instrumentation: McpInstrumentation;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcpscope-rounds-'));
  collector = await startCollectorProcess({
    httpPort: await freePort(),
    grpcPort: await freePort(),
    dbPath: join(dir, 'mcpscope.duckdb'),
  });
  provider = new BasicTracerProvider({
    spanProcessors: [
      new TaskIdSpanProcessor(),
      new SimpleSpanProcessor(new OTLPTraceExporter({ url: collector.grpcUrl })),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  instrumentation = new McpInstrumentation();
  instrumentation.setTracerProvider(provider);
  await instrumentation.ready;
}, 60_000);

afterAll(async () => {
  instrumentation?.disable();
  await provider?.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
  await collector?.process.stop();
  rmSync(dir, { recursive: true, force: true });
});

const taskView = (taskId: string, calls: number) =>
  eventually(
    async () => {
      await provider.forceFlush();
      const response = await fetch(`${collector.url}/api/tasks/${taskId}`);
      if (!response.ok) return undefined;
      const view = (await response.json()) as TaskView;
      return view.calls.length >= calls ? view : undefined;
    },
    { what: `task ${taskId} with ${calls} calls`, timeoutMs: 20_000 },
  );

describe('input_required rounds (SDK v2, protocol 2026-07-28)', () => {
  it('one confirmed deploy is one successful call with its round, neither a failure nor a retry', async () => {
    const handler = createMcpHandler(() => {
      const server = new McpServer({ name: 'change', version: '1.0.0' });
      server.registerTool(
        'deploy',
        { inputSchema: z4.object({ env: z4.string() }) },
        async ({ env }, ctx) => {
          const answer = acceptedContent(
            ctx.mcpReq.inputResponses,
            'confirm',
            z4.object({ confirm: z4.boolean() }),
          );
          if (answer?.confirm !== true) {
            return inputRequired({
              inputRequests: {
                confirm: inputRequired.elicit({
                  message: `Deploy ${env}?`,
                  requestedSchema: {
                    type: 'object',
                    properties: { confirm: { type: 'boolean' } },
                    required: ['confirm'],
                  },
                }),
              },
            });
          }
          return { content: [{ type: 'text', text: `deployed ${env}` }] };
        },
      );
      return server;
    });
    const client = new ClientV2(
      { name: 'agent', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: { form: {} } } },
    );
    let asked = 0;
    client.setRequestHandler('elicitation/create', async () => {
      asked += 1;
      return { action: 'accept', content: { confirm: true } };
    });
    await client.connect(
      new StreamableHTTPClientTransport(new URL('http://change.internal/mcp'), {
        fetch: (url, init) => handler.fetch(new Request(url, init)),
      }),
    );
    await withTask('task-rounds', () => client.callTool({ name: 'deploy', arguments: { env: 'prod' } }));
    expect(asked).toBe(1);

    const view = await taskView('task-rounds', 1);
    expect(view.task).toMatchObject({ toolCalls: 1, failedCalls: 0, retries: 0, outcome: 'success' });
    expect(view.calls).toHaveLength(1);
    expect(view.calls[0]).toMatchObject({
      tool: 'deploy',
      outcome: 'success',
      retryOf: null,
      inputRequired: { rounds: asked },
    });
  });
});

describe('a tool call that became a task (SDK 1.x experimental tasks)', () => {
  const runTask = async (taskId: string, ending: TaskEnding) => {
    const { callAsTask } = await connectTaskServer(ending);
    return withTask(taskId, callAsTask);
  };

  it('lasts from creation to completion, and polling is not a call', async () => {
    const statuses = await runTask('task-mcp-completed', {
      afterMs: 300,
      status: 'completed',
      result: { content: [{ type: 'text', text: 'applied' }] },
    });
    expect(statuses.at(-1)).toBe('completed');
    const view = await taskView('task-mcp-completed', 1);
    expect(view.task).toMatchObject({ toolCalls: 1, failedCalls: 0, outcome: 'success' });
    expect(view.calls[0]).toMatchObject({
      tool: 'long_apply',
      outcome: 'success',
      mcpTask: { status: 'completed' },
    });
    expect(view.calls[0]?.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('fails when the task fails', async () => {
    const statuses = await runTask('task-mcp-failed', {
      afterMs: 300,
      status: 'failed',
      result: { content: [{ type: 'text', text: 'lock held' }], isError: true },
    });
    expect(statuses.at(-1)).toBe('failed');
    const view = await taskView('task-mcp-failed', 1);
    expect(view.task).toMatchObject({ toolCalls: 1, failedCalls: 1, outcome: 'failed' });
    expect(view.calls[0]).toMatchObject({
      outcome: 'error',
      errorType: 'task_failed',
      mcpTask: { status: 'failed' },
    });
  });
});
