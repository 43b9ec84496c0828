import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_NETWORK_TRANSPORT,
} from '@mcpscope/instrumentation/conventions';
import { startProcess } from './support/processes.js';
import { startRecordingCollector } from './support/recording-collector.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const API_KEY = `sk-proj-${'Q7w9E2r4T6y8'.repeat(4)}`;

let collector: Awaited<ReturnType<typeof startRecordingCollector>>;
beforeAll(async () => {
  collector = await startRecordingCollector();
});
afterAll(() => collector.close());

/**
 * Talks JSON-RPC to a stdio server by hand, so the test sees every byte the server writes to stdout:
 * only JSON-RPC messages may be there.
 */
const exerciseStdioServer = async (
  args: string[],
  serviceName: string,
  extraEnv: Record<string, string> = {},
) => {
  const server = startProcess(process.execPath, args, {
    env: {
      ...process.env,
      OTEL_SERVICE_NAME: serviceName,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_LOG_LEVEL: 'debug',
      ...extraEnv,
    },
  });
  const send = (message: object) => server.child.stdin?.write(`${JSON.stringify(message)}\n`);
  send({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
  });
  await server.waitFor(/"id":1/);
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({
    jsonrpc: '2.0',
    id: 2,
    method: 'tools/call',
    params: { name: 'list_workspaces', arguments: { filter: 'prod', apiKey: API_KEY } },
  });
  await server.waitFor(/"id":2/);
  server.child.stdin?.end();
  const code = await server.exited;
  return { server, code };
};

const stdoutIsOnlyJsonRpc = (stdout: string) => {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  expect(lines.length).toBeGreaterThanOrEqual(2);
  for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
};

describe('the one import in a stdio server', () => {
  it.each([
    ['an ESM server (import)', [fixture('esm-stdio-server.mjs')], 'fixture-esm'],
    ['a CommonJS server (require)', [fixture('cjs-stdio-server.cjs')], 'fixture-cjs'],
    [
      'a server started with node --import',
      ['--import', '@mcpscope/instrumentation/register', fixture('plain-esm-stdio-server.mjs')],
      'fixture-preload',
    ],
  ])(
    '%s exports a tools/call span and writes nothing but JSON-RPC to stdout',
    async (_label, args, serviceName) => {
      const { server, code } = await exerciseStdioServer(args, serviceName);
      expect(code, server.stderr()).toBe(0);
      stdoutIsOnlyJsonRpc(server.stdout());

      const span = await collector.waitForSpan(
        (candidate) =>
          candidate.serviceName === serviceName && candidate.name === 'tools/call list_workspaces',
        `the tools/call span of ${serviceName}`,
      );
      expect(span.kind).toBe('server');
      expect(span.attributes[ATTR_MCP_METHOD_NAME]).toBe('tools/call');
      expect(span.attributes[ATTR_GEN_AI_TOOL_NAME]).toBe('list_workspaces');
      expect(span.attributes[ATTR_NETWORK_TRANSPORT]).toBe('pipe');
      if (serviceName !== 'fixture-preload') {
        const recorded = String(span.attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]);
        expect(recorded).toContain('prod');
        expect(recorded).not.toContain(API_KEY);
      }
      // Diagnostics, even at debug level, went to stderr only; the key never reached any output.
      expect(server.stdout()).not.toContain('mcpscope');
      expect(server.stderr()).not.toContain(API_KEY);
    },
  );

  it.each([
    ['OTEL_TRACES_EXPORTER=otlp,console', { OTEL_TRACES_EXPORTER: 'otlp,console' }],
    // The full Node SDK path: its OTLP exporters default to HTTP, ours to gRPC.
    [
      'OTEL_TRACES_EXPORTER=otlp,console with metrics',
      { OTEL_TRACES_EXPORTER: 'otlp,console', OTEL_METRICS_EXPORTER: 'otlp' },
    ],
  ])('with %s prints spans to stderr, not stdout, and still exports over gRPC', async (label, env) => {
    const serviceName = `fixture-console-${label.length}`;
    const { server, code } = await exerciseStdioServer([fixture('esm-stdio-server.mjs')], serviceName, env);
    expect(code, server.stderr()).toBe(0);
    stdoutIsOnlyJsonRpc(server.stdout());
    expect(server.stderr()).toContain(`name: 'tools/call list_workspaces'`);
    expect(server.stderr()).not.toContain(API_KEY);
    await collector.waitForSpan(
      (candidate) => candidate.serviceName === serviceName && candidate.name === 'tools/call list_workspaces',
      `the tools/call span of ${serviceName}`,
    );
  });

  it('does nothing when OTEL_SDK_DISABLED=true, and the server still works', async () => {
    const server = startProcess(process.execPath, [fixture('esm-stdio-server.mjs')], {
      env: {
        ...process.env,
        OTEL_SDK_DISABLED: 'true',
        OTEL_SERVICE_NAME: 'fixture-disabled',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      },
    });
    server.child.stdin?.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`,
    );
    await server.waitFor(/"id":1/);
    server.child.stdin?.end();
    expect(await server.exited).toBe(0);
    expect(JSON.parse(server.stdout().trim())).toMatchObject({ jsonrpc: '2.0', id: 1 });
    expect(collector.spans.filter((span) => span.serviceName === 'fixture-disabled')).toEqual([]);
  });
});
