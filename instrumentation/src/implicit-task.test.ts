import {
  context,
  createContextKey,
  diag,
  DiagLogLevel,
  propagation,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_MCPSCOPE_CONNECTION_ID,
  ATTR_MCPSCOPE_TASK_ID,
} from './conventions.js';
import { withTask } from './task-context.js';
import { installTaskIdProcessor, TASK_ID_PROCESSOR_ADVICE } from './task-id-installation.js';
import { setUpTracing, spansNamed } from './test-support/tracing.js';

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
beforeAll(async () => {
  tracing = await setUpTracing();
});
afterAll(() => tracing.tearDown());

const connect = async () => {
  const server = new McpServer({ name: 'infra', version: '1.0.0' });
  server.registerTool('plan_changes', {}, async () => ({ content: [{ type: 'text', text: 'planned' }] }));
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  return client;
};

const callerSpans = () =>
  spansNamed(tracing.spans(), 'tools/call plan_changes').filter((span) => span.kind === SpanKind.CLIENT);

describe('what a call with no span around it says of its task', () => {
  it('carries its connection: one id per connection, another for the next one', async () => {
    const first = await connect();
    const second = await connect();
    tracing.exporter.reset();
    await first.callTool({ name: 'plan_changes' });
    await first.callTool({ name: 'plan_changes' });
    await second.callTool({ name: 'plan_changes' });
    const ids = callerSpans().map((span) => span.attributes[ATTR_MCPSCOPE_CONNECTION_ID]);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toEqual(expect.any(String));
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('carries nothing of the kind under a span of the application, or inside withTask', async () => {
    const client = await connect();
    tracing.exporter.reset();
    await trace.getTracer('agent').startActiveSpan('agent run', async (run) => {
      await client.callTool({ name: 'plan_changes' });
      run.end();
    });
    await withTask('deploy-7', () => client.callTool({ name: 'plan_changes' }));
    const [underRun, inTask] = callerSpans();
    expect(underRun?.attributes[ATTR_MCPSCOPE_CONNECTION_ID]).toBeUndefined();
    expect(inTask?.attributes[ATTR_MCPSCOPE_TASK_ID]).toBe('deploy-7');
    expect(inTask?.attributes[ATTR_MCPSCOPE_CONNECTION_ID]).toBeUndefined();
  });

  it('carries the conversation the context names: baggage, an OpenInference session, Traceloop associations', async () => {
    const client = await connect();
    tracing.exporter.reset();
    const baggage = propagation.createBaggage({ [ATTR_GEN_AI_CONVERSATION_ID]: { value: 'conv-baggage' } });
    await context.with(propagation.setBaggage(context.active(), baggage), () =>
      client.callTool({ name: 'plan_changes' }),
    );
    // The keys those libraries create with createContextKey, which is Symbol.for(description).
    const openInference = createContextKey('OpenInference SDK Context Key session.id');
    await context.with(context.active().setValue(openInference, 'conv-openinference'), () =>
      client.callTool({ name: 'plan_changes' }),
    );
    const associations = createContextKey('association_properties');
    await context.with(context.active().setValue(associations, { thread_id: 'conv-traceloop' }), () =>
      client.callTool({ name: 'plan_changes' }),
    );
    expect(callerSpans().map((span) => span.attributes[ATTR_GEN_AI_CONVERSATION_ID])).toEqual([
      'conv-baggage',
      'conv-openinference',
      'conv-traceloop',
    ]);
  });
});

describe('task-id propagation in a tracer provider the application registered first', () => {
  it('is installed once into an SDK provider, and spans it starts carry the task id', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    expect(installTaskIdProcessor(provider)).toBe(true);
    expect(installTaskIdProcessor(provider)).toBe(true);
    withTask('deploy-8', () => provider.getTracer('llm').startSpan('chat').end());
    expect(exporter.getFinishedSpans().map((span) => span.attributes[ATTR_MCPSCOPE_TASK_ID])).toEqual([
      'deploy-8',
    ]);
    await provider.shutdown();
  });

  it('says in one line what to add when the provider is not one it can reach into', () => {
    const warnings: string[] = [];
    diag.setLogger(
      {
        error: () => {},
        warn: (message) => warnings.push(message),
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      DiagLogLevel.WARN,
    );
    try {
      const custom = { getTracer: () => trace.getTracer('noop') };
      expect(installTaskIdProcessor(custom)).toBe(false);
    } finally {
      diag.disable();
    }
    expect(warnings).toEqual([TASK_ID_PROCESSOR_ADVICE]);
    expect(TASK_ID_PROCESSOR_ADVICE).not.toContain('\n');
  });
});
