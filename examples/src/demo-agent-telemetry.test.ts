import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_VALUES, SERVICE_NAMES, TASKS } from './scenario.mjs';
import { runScript, testEnv } from './test-support/processes.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpSpan {
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}
interface ExportedSpan {
  service: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, string | number | undefined>;
}

const SPAN_KIND_CLIENT = 3;
const RUN_TIMEOUT_MS = 90_000;

/** A real OTLP/HTTP (JSON) endpoint on a loopback socket that keeps every span it receives. */
const startReceiver = async () => {
  const bodies: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const spans = (): ExportedSpan[] =>
    bodies
      .filter((body) => body.startsWith('{'))
      .flatMap((body) => (JSON.parse(body) as OtlpRequest).resourceSpans ?? [])
      .flatMap((resourceSpans) => {
        const service = resourceSpans.resource?.attributes?.find(
          (attribute) => attribute.key === 'service.name',
        )?.value.stringValue;
        return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
          (scope.spans ?? []).map((span) => ({
            service,
            name: span.name,
            kind: span.kind,
            attributes: Object.fromEntries(
              (span.attributes ?? []).map(({ key, value }) => [
                key,
                value.stringValue ?? Number(value.intValue),
              ]),
            ),
          })),
        );
      });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, spans, server };
};

describe('demo agent telemetry', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let exitCode: number | null;

  beforeAll(async () => {
    receiver = await startReceiver();
    const run = await runScript(
      'demo-agent.mjs',
      [],
      testEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_SERVICE_NAME: SERVICE_NAMES.agent,
      }),
      RUN_TIMEOUT_MS - 5_000,
    );
    exitCode = run.code;
  }, RUN_TIMEOUT_MS);
  afterAll(() => new Promise((resolve) => receiver.server.close(resolve)));

  it('exports from every process under its own service name', () => {
    expect(exitCode).toBe(0);
    const services = new Set(receiver.spans().map((span) => span.service));
    expect([...services].sort()).toEqual(Object.values(SERVICE_NAMES).sort());
  });

  it('makes, in each task, exactly the tool calls of its truth, all carrying the task id', () => {
    const agentCalls = receiver
      .spans()
      .filter((span) => span.service === SERVICE_NAMES.agent && span.kind === SPAN_KIND_CLIENT)
      .filter((span) => span.attributes['mcp.method.name'] === 'tools/call');
    for (const task of TASKS) {
      const calls = agentCalls.filter((span) => span.attributes['mcpscope.task.id'] === task.id);
      expect({ task: task.id, calls: calls.length }).toEqual({ task: task.id, calls: task.truth.toolCalls });
    }
    expect(agentCalls.filter((span) => span.attributes['mcpscope.task.id'] === undefined)).toEqual([]);
  });

  it('records one root span per task and the token usage of every LLM step', () => {
    const spans = receiver.spans();
    expect(spans.filter((span) => span.name === 'invoke_agent demo-agent')).toHaveLength(TASKS.length);
    const chats = spans.filter((span) => span.attributes['gen_ai.operation.name'] === 'chat');
    const sum = (key: string) => chats.reduce((total, span) => total + Number(span.attributes[key]), 0);
    expect(sum('gen_ai.usage.input_tokens')).toBe(
      TASKS.reduce((total, task) => total + task.truth.inputTokens, 0),
    );
    expect(sum('gen_ai.usage.output_tokens')).toBe(
      TASKS.reduce((total, task) => total + task.truth.outputTokens, 0),
    );
    expect(new Set(chats.map((span) => span.attributes['gen_ai.request.model']))).toEqual(
      new Set(['demo-model']),
    );
  });

  it('exports none of the secrets in the arguments', () => {
    expect(receiver.bodies.length).toBeGreaterThan(0);
    for (const body of receiver.bodies)
      for (const secret of SECRET_VALUES) expect(body).not.toContain(secret);
  });
});
