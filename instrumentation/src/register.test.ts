import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The one import as users run it: the built package, required first thing by a CommonJS program
 * whose client calls its own server over the in-memory transport, exporting OTLP/HTTP JSON to a
 * receiver in this test. Each case sets the OTEL_* variables a user would.
 */
const repoRoot = join(__dirname, '..', '..');

const program = `
require('@mcpscope/instrumentation/register');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { InMemoryTransport } = require('@modelcontextprotocol/sdk/inMemory.js');
(async () => {
  const server = new McpServer({ name: 'register-test', version: '1.0.0' });
  // The tool answers with the trace-context keys it received in _meta.
  server.registerTool('list_workspaces', {}, async (extra) => ({
    content: [{ type: 'text', text: Object.keys(extra._meta ?? {}).sort().join(',') }],
  }));
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'register-test-agent', version: '1.0.0' });
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  const result = await client.callTool({ name: 'list_workspaces', arguments: {} });
  process.stderr.write('META ' + result.content[0].text + '\\n');
  await client.close();
})();
`;

interface ReceivedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  resource: Record<string, unknown>;
}

interface OtlpJsonValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpJsonRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpJsonValue }> };
    scopeSpans?: Array<{ spans?: Array<Omit<ReceivedSpan, 'resource'>> }>;
  }>;
}

let receiver: Server;
let endpoint: string;
const received: ReceivedSpan[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJsonRequest;
      for (const resourceSpans of body.resourceSpans ?? []) {
        const resource = Object.fromEntries(
          (resourceSpans.resource?.attributes ?? []).map(({ key, value }) => [
            key,
            value.stringValue ?? value.intValue,
          ]),
        );
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const span of scopeSpans.spans ?? []) received.push({ ...span, resource });
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  // Short keep-alive: the exporter's pooled connection would otherwise hold each program open for 5 s.
  receiver.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

/** Runs the program to its end (the import flushes at exit) and returns the spans of its service. */
const runProgram = async (serviceName: string, env: Record<string, string>) => {
  const child = spawn(process.execPath, ['-e', program], {
    cwd: repoRoot,
    env: {
      ...process.env,
      OTEL_SERVICE_NAME: serviceName,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, output).toBe(0);
  return {
    spans: received.filter((span) => span.resource['service.name'] === serviceName),
    metaKeys: /META (.*)/
      .exec(output)?.[1]
      ?.split(',')
      .filter((key) => key !== ''),
  };
};

const toolCallSpans = (spans: ReceivedSpan[]) => {
  const calls = spans.filter((span) => span.name === 'tools/call list_workspaces');
  const client = calls.find((span) => span.kind === 3);
  const server = calls.find((span) => span.kind === 2);
  return { client, server };
};

describe('the one import and the OTEL_* variables', () => {
  it('exports spans with the resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, one trace across the hop', async () => {
    const { spans, metaKeys } = await runProgram('register-defaults', {
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=infra',
    });
    expect(metaKeys).toEqual(['traceparent']);
    const { client, server } = toolCallSpans(spans);
    expect(client?.resource).toMatchObject({
      'service.name': 'register-defaults',
      'deployment.environment.name': 'test',
      team: 'infra',
      'telemetry.sdk.language': 'nodejs',
    });
    expect(client?.resource['host.name']).toEqual(expect.any(String));
    // No process detector: command lines can carry credentials.
    expect(client?.resource['process.command_line']).toBeUndefined();
    expect(server?.traceId).toBe(client?.traceId);
    expect(server?.parentSpanId).toBe(client?.spanId);
  });

  it('samples nothing under OTEL_TRACES_SAMPLER=always_off, and the program still works', async () => {
    const { spans } = await runProgram('register-always-off', { OTEL_TRACES_SAMPLER: 'always_off' });
    expect(spans).toEqual([]);
  });

  it.each([
    ['none', []],
    ['tracecontext', ['traceparent']],
    ['baggage', []],
    // A propagator only the full Node SDK provides: it is loaded for it.
    ['b3', ['b3']],
  ])('puts what OTEL_PROPAGATORS=%s injects into _meta', async (propagators, expected) => {
    const { spans, metaKeys } = await runProgram(`register-propagators-${propagators}`, {
      OTEL_PROPAGATORS: propagators,
    });
    expect(metaKeys).toEqual(expected);
    expect(toolCallSpans(spans).client).toBeDefined();
  });

  it('applies span limits from OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', async () => {
    const { spans } = await runProgram('register-limits', { OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '2' });
    const { client } = toolCallSpans(spans);
    expect(client).toBeDefined();
    const attributes = (client as unknown as { attributes?: unknown[] }).attributes ?? [];
    expect(attributes).toHaveLength(2);
  });
});
