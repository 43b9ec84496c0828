import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_TASK_ID,
} from '@mcpscope/instrumentation/conventions';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from './app.js';
import { collectorConfig, type CollectorConfig } from './config/index.js';
import { DuckDbStore } from './store/index.js';
import type { TaskDetail, TaskSummary } from './api/views.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const start = async (overrides: Partial<CollectorConfig> = {}) => {
  const dir = await mkdtemp(join(tmpdir(), 'mcpscope-app-'));
  const dbPath = join(dir, 'mcpscope.duckdb');
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const collector = await startCollector(
    collectorConfig({ httpPort: 0, grpcPort: 0, batchIntervalMs: 2, dbPath, ...overrides }),
  );
  cleanups.push(() => collector.close());
  return { collector, dbPath };
};

/** One agent task through a real OpenTelemetry SDK: a failed tool call, its retry, a secret argument. */
const exportTask = async (exporter: SpanExporter, taskId: string) => {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'demo-agent' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('mcpscope-app-test');
  const root = tracer.startSpan('agent.run', { attributes: { [ATTR_MCPSCOPE_TASK_ID]: taskId } });
  const { trace, context } = await import('@opentelemetry/api');
  const parent = trace.setSpan(context.active(), root);
  for (const failed of [true, false]) {
    const call = tracer.startSpan(
      'tools/call deploy',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_MCP_METHOD_NAME]: 'tools/call',
          [ATTR_GEN_AI_TOOL_NAME]: 'deploy',
          [ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]: 'fp-deploy',
          [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: JSON.stringify({ password: 'hunter2-secret-value' }),
          ...(failed ? { [ATTR_ERROR_TYPE]: 'tool_error' } : {}),
        },
      },
      parent,
    );
    if (failed) call.setStatus({ code: SpanStatusCode.ERROR });
    call.end();
  }
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
};

const json = async <T>(collector: RunningCollector, path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${collector.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as T };
};

describe('startCollector', () => {
  it('ingests from real OTLP exporters over HTTP and gRPC, redacted, and serves tasks, health and metrics', async () => {
    const { collector } = await start();
    await exportTask(new OtlpProtoExporter({ url: `${collector.url}/v1/traces` }), 'task-http');
    await exportTask(new OtlpGrpcExporter({ url: `http://127.0.0.1:${collector.grpcPort}` }), 'task-grpc');

    const { body } = await json<{ tasks: TaskSummary[] }>(collector, '/api/tasks');
    expect(body.tasks.map((task) => task.taskId).sort()).toEqual(['task-grpc', 'task-http']);
    for (const task of body.tasks) {
      expect(task).toMatchObject({
        outcome: 'recovered',
        toolCalls: 2,
        failedCalls: 1,
        retries: 1,
        services: ['demo-agent'],
      });
    }
    const detail = await fetch(`${collector.url}/api/tasks/task-http`);
    const detailText = await detail.text();
    expect(detailText).not.toContain('hunter2-secret-value');
    expect((JSON.parse(detailText) as TaskDetail).calls[1]?.retryOf).toBe(
      (JSON.parse(detailText) as TaskDetail).calls[0]?.spanId,
    );

    expect((await json(collector, '/healthz')).status).toBe(200);
    expect(await json(collector, '/readyz')).toEqual({
      status: 200,
      body: { status: 'ready', storeOpen: true, queueFull: false },
    });
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/^mcpscope_collector_spans_committed_total 6$/m);
    expect(metrics).toMatch(/^mcpscope_collector_spans_received_total\{protocol="grpc"\} 3$/m);
    expect(metrics).toMatch(
      /^mcpscope_tool_call_retries_total\{service_name="demo-agent",gen_ai_tool_name="deploy"\} 2$/m,
    );

    const missing = await json<{ code: string; requestId: unknown }>(collector, '/api/tasks/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    const badLimit = await json<{ message: string }>(collector, '/api/tasks?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.message).toContain('"limit"');
  });

  it("rolls up another producer's MCP spans: no fingerprint, tool names and arguments in their own attributes", async () => {
    const { collector } = await start();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'python-agent' }),
      spanProcessors: [new SimpleSpanProcessor(new OtlpProtoExporter({ url: `${collector.url}/v1/traces` }))],
    });
    const tracer = provider.getTracer('another-mcp-instrumentation');
    const { trace, context } = await import('@opentelemetry/api');
    const startMs = Date.now();
    const root = tracer.startSpan('invoke_agent', { startTime: startMs });
    const parent = trace.setSpan(context.active(), root);
    let callsMade = 0;
    // One call per 10 ms, so the order of attempts is unambiguous.
    const exportCall = (attributes: Record<string, string>, failed: boolean) => {
      const callStartMs = startMs + 10 * ++callsMade;
      const span = tracer.startSpan(
        'tools/call',
        {
          kind: SpanKind.CLIENT,
          startTime: callStartMs,
          attributes: { [ATTR_MCP_METHOD_NAME]: 'tools/call', ...attributes },
        },
        parent,
      );
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(callStartMs + 5);
    };
    // The conventions' names, arguments in another key order on the retry, a password changed meanwhile.
    exportCall(
      {
        [ATTR_GEN_AI_TOOL_NAME]: 'deploy',
        [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: '{"env":"prod","password":"first-Secret-1"}',
      },
      true,
    );
    exportCall(
      {
        [ATTR_GEN_AI_TOOL_NAME]: 'deploy',
        [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: '{"password":"second-Secret-2","env":"prod"}',
      },
      false,
    );
    // An earlier draft's tool name and one attribute per argument; other arguments are another call.
    exportCall(
      {
        'mcp.tool.name': 'list_instances',
        'mcp.request.argument.region': 'eu-west-1',
        'mcp.request.argument.api_key': 'sk-live-Zq8rT3vK9mW2',
      },
      true,
    );
    exportCall({ 'mcp.tool.name': 'list_instances', 'mcp.request.argument.region': 'us-east-1' }, false);
    root.end(startMs + 100);
    await provider.forceFlush();
    await provider.shutdown();

    const { body } = await json<{ tasks: TaskSummary[] }>(collector, '/api/tasks');
    expect(body.tasks).toHaveLength(1);
    expect(body.tasks[0]).toMatchObject({ outcome: 'failed', toolCalls: 4, failedCalls: 2, retries: 1 });
    const detailText = await (await fetch(`${collector.url}/api/tasks/${body.tasks[0]!.taskId}`)).text();
    for (const secret of ['first-Secret-1', 'second-Secret-2', 'sk-live-Zq8rT3vK9mW2']) {
      expect(detailText).not.toContain(secret);
    }
    // Calls started in the same instant may list in either order: compare them by tool and outcome.
    const { calls } = JSON.parse(detailText) as TaskDetail;
    const call = (tool: string, outcome: string) =>
      calls.find((entry) => entry.tool === tool && entry.outcome === outcome);
    expect(calls).toHaveLength(4);
    expect(call('deploy', 'success')?.retryOf).toBe(call('deploy', 'error')?.spanId);
    expect(call('list_instances', 'success')?.retryOf).toBeNull();
    expect(call('list_instances', 'error')?.arguments).toEqual({
      api_key: '[REDACTED:key_api_key]',
      region: 'eu-west-1',
    });
  });

  it('keeps serving when a producer sends token counts or times no column can hold', async () => {
    const { collector } = await start();
    const traceId = 'c'.repeat(32);
    const span = (spanId: string, parentSpanId: string | undefined, tokens: Record<string, unknown>) => ({
      traceId,
      spanId,
      parentSpanId,
      name: 'chat',
      kind: 3,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000250000000',
      attributes: Object.entries(tokens).map(([key, value]) => ({ key, value })),
    });
    const post = (spans: unknown[]) =>
      fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'broken-llm' } }] },
              scopeSpans: [{ spans }],
            },
          ],
        }),
      });
    // Two counts that each fit a 64-bit column but whose sum does not, a double past 2^64, a sane one.
    const accepted = await post([
      span('1'.repeat(16), undefined, {}),
      span('2'.repeat(16), '1'.repeat(16), {
        'gen_ai.usage.input_tokens': { intValue: '6000000000000000000' },
      }),
      span('3'.repeat(16), '1'.repeat(16), {
        'gen_ai.usage.input_tokens': { intValue: '6000000000000000000' },
      }),
      span('4'.repeat(16), '1'.repeat(16), { 'gen_ai.usage.output_tokens': { doubleValue: 2 ** 64 } }),
      span('5'.repeat(16), '1'.repeat(16), {
        'gen_ai.usage.input_tokens': { intValue: '120' },
        'gen_ai.usage.output_tokens': { intValue: '30' },
      }),
    ]);
    expect(accepted.status).toBe(200);
    const beyond = await post([
      { ...span('6'.repeat(16), undefined, {}), endTimeUnixNano: '18446744073709551615' },
    ]);
    expect(beyond.status).toBe(400);

    const { status, body } = await json<{ tasks: TaskSummary[] }>(collector, '/api/tasks');
    expect(status).toBe(200);
    expect(body.tasks).toHaveLength(1);
    expect(body.tasks[0]).toMatchObject({ taskId: traceId, inputTokens: 120, outputTokens: 30 });
    expect((await json(collector, '/api/tools')).status).toBe(200);
  });

  it('lists a task whose id arrived as OTLP/JSON with a lone surrogate escape', async () => {
    const { collector } = await start();
    // `\ud800` alone is valid JSON but no Unicode text: it is stored, listed and found as U+FFFD.
    const body = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"odd-agent"}}]},
      "scopeSpans":[{"spans":[{"traceId":"${'d'.repeat(32)}","spanId":"${'1'.repeat(16)}","name":"agent.run","kind":1,
      "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000",
      "attributes":[{"key":"${ATTR_MCPSCOPE_TASK_ID}","value":{"stringValue":"deploy-\\ud800-42"}}]}]}]}]}`;
    const response = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    const { body: page } = await json<{ tasks: TaskSummary[] }>(collector, '/api/tasks');
    expect(page.tasks.map((task) => task.taskId)).toEqual(['deploy-\ufffd-42']);
    const detail = await json<TaskDetail>(collector, `/api/tasks/${encodeURIComponent('deploy-\ufffd-42')}`);
    expect(detail.status).toBe(200);
    expect(detail.body.task.taskId).toBe('deploy-\ufffd-42');
  });

  it('redacts service names and feedback notes, and keeps values up to the configured length', async () => {
    const { collector, dbPath } = await start();
    const githubToken = `ghp_${'Zq8rT3vK9m'.repeat(3)}xY7pL4`;
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': `svc-${githubToken}` }),
      spanProcessors: [new SimpleSpanProcessor(new OtlpProtoExporter({ url: `${collector.url}/v1/traces` }))],
    });
    const longText = `${'lorem ipsum '.repeat(800)}END`;
    provider
      .getTracer('names-and-notes')
      .startSpan('invoke_agent', {
        attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'task-notes', 'input.value': longText },
      })
      .end();
    await provider.forceFlush();
    await provider.shutdown();

    const feedback = await fetch(`${collector.url}/api/tasks/task-notes/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'incorrect', note: 'retried with password=hunter2xyz, still wrong' }),
    });
    expect(feedback.status).toBe(201);
    expect(await feedback.text()).not.toContain('hunter2xyz');
    const detailText = await (await fetch(`${collector.url}/api/tasks/task-notes`)).text();
    const listText = await (await fetch(`${collector.url}/api/tasks`)).text();
    for (const text of [detailText, listText]) {
      expect(text).not.toContain(githubToken);
      expect(text).not.toContain('hunter2xyz');
    }
    const task = (JSON.parse(listText) as { tasks: TaskSummary[] }).tasks[0];
    expect(task?.services).toEqual(['svc-[REDACTED:github_token]']);
    expect(task?.feedback?.note).toBe('retried with password=[REDACTED:key_password], still wrong');

    // The 9,603-character value is under the 16,384 a span may carry: stored whole, not cut at 4 KB.
    await collector.close();
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(`SELECT attributes FROM spans WHERE name = 'invoke_agent'`);
    const stored = JSON.parse(String(reader.getRowObjectsJS()[0]?.attributes)) as Record<string, unknown>;
    connection.closeSync();
    instance.closeSync();
    expect(stored['input.value']).toBe(longText);
  });

  it('requires a bearer token on ingest and the API when tokens are configured', async () => {
    const { collector } = await start({ authTokens: ['s3cret-token'] });
    expect((await fetch(`${collector.url}/api/tasks`)).status).toBe(401);
    const wrong = await fetch(`${collector.url}/api/tasks`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    await exportTask(
      new OtlpProtoExporter({
        url: `${collector.url}/v1/traces`,
        headers: { authorization: 'Bearer s3cret-token' },
      }),
      'task-authed',
    );
    const authed = await json<{ tasks: TaskSummary[] }>(collector, '/api/tasks', {
      authorization: 'Bearer s3cret-token',
    });
    expect(authed.body.tasks.map((task) => task.taskId)).toEqual(['task-authed']);
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(
      /^mcpscope_auth_failures_total\{service_name="mcpscope-collector",side="collector",reason="missing_token"\} 1$/m,
    );
    expect(metrics).toMatch(
      /^mcpscope_collector_requests_rejected_total\{protocol="api",reason="unauthenticated"\} 2$/m,
    );
  });

  it('commits everything accepted before close, and the file reopens with it', async () => {
    const { collector, dbPath } = await start({ batchIntervalMs: 5_000, batchSize: 100_000 });
    const exporting = exportTask(
      new OtlpProtoExporter({ url: `${collector.url}/v1/traces` }),
      'task-at-shutdown',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await collector.close();
    await exporting;
    const store = await DuckDbStore.open({ path: dbPath });
    cleanups.push(() => store.close());
    expect((await store.getTask('task-at-shutdown'))?.task.toolCalls).toBe(2);
  });
});
