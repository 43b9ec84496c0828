import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { McpInstrumentation as TraceloopMcpInstrumentation } from '@traceloop/instrumentation-mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  collectorConfig,
  startCollector,
  type RunningCollector,
  type TaskDetail,
  type TaskSummary,
} from '@mcpscope/collector';

const DB_PASSWORD = ['traceloop', 'Agent', 'Secret', '9c41'].join('-');

let collector: RunningCollector;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpscope-producers-'));
  collector = await startCollector(
    collectorConfig({ httpPort: 0, grpcPort: 0, batchIntervalMs: 2, dbPath: join(dir, 'mcpscope.duckdb') }),
  );
});
afterAll(async () => {
  await collector?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("another producer's MCP spans, from its real instrumentation", () => {
  it('Traceloop (OpenLLMetry) tool calls become calls, failures and retries, redacted', async () => {
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'traceloop-agent' }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${collector.url}/v1/traces` }), {
          scheduledDelayMillis: 50,
        }),
      ],
    });
    provider.register();
    const traceloop = new TraceloopMcpInstrumentation();
    registerInstrumentations({ instrumentations: [traceloop], tracerProvider: provider });
    // Its documented path for ESM, where module hooks do not reach.
    traceloop.manuallyInstrument({ Client, Server });

    const server = new McpServer({ name: 'infra', version: '1.0.0' });
    let refreshes = 0;
    server.registerTool('refresh_state', { inputSchema: { workspace: z.string() } }, async () => {
      refreshes += 1;
      return refreshes === 1
        ? { isError: true, content: [{ type: 'text', text: 'state lock held' }] }
        : { content: [{ type: 'text', text: 'refreshed' }] };
    });
    server.registerTool('query_db', { inputSchema: { dsn: z.string(), password: z.string() } }, async () => ({
      content: [{ type: 'text', text: '3 rows' }],
    }));
    const client = new Client({ name: 'traceloop-agent', version: '1.0.0' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    await client.callTool({ name: 'refresh_state', arguments: { workspace: 'prod' } });
    await client.callTool({ name: 'refresh_state', arguments: { workspace: 'prod' } });
    await client.callTool({
      name: 'query_db',
      arguments: { dsn: `postgres://app:${DB_PASSWORD}@db.internal/app`, password: DB_PASSWORD },
    });
    await client.close();
    await provider.forceFlush();
    await provider.shutdown();

    const response = await fetch(`${collector.url}/api/tasks?service=traceloop-agent`);
    const { tasks } = (await response.json()) as { tasks: TaskSummary[] };
    const task = tasks.find((candidate) => candidate.toolCalls > 0);
    expect(task, JSON.stringify(tasks)).toMatchObject({
      outcome: 'recovered',
      toolCalls: 3,
      failedCalls: 1,
      retries: 1,
    });
    const detailText = await (await fetch(`${collector.url}/api/tasks/${task!.taskId}`)).text();
    expect(detailText).not.toContain(DB_PASSWORD);
    const { calls } = JSON.parse(detailText) as TaskDetail;
    const failed = calls.find((call) => call.tool === 'refresh_state' && call.outcome === 'error');
    const retried = calls.find((call) => call.tool === 'refresh_state' && call.outcome === 'success');
    expect(retried?.retryOf).toBe(failed?.spanId);
    expect(retried).toMatchObject({ method: 'tools/call', arguments: { workspace: 'prod' } });
    const query = calls.find((call) => call.tool === 'query_db');
    expect(query?.arguments).toMatchObject({ password: expect.stringMatching(/^\[REDACTED/) });

    const tools = (await (await fetch(`${collector.url}/api/tools`)).json()) as {
      tools: { tool: string; calls: number; errors: number; retries: number }[];
    };
    expect(tools.tools.find((tool) => tool.tool === 'refresh_state')).toMatchObject({
      calls: 2,
      errors: 1,
      retries: 1,
    });
  });
});
