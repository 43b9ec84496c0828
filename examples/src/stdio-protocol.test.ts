import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { exampleScript, testEnv } from './test-support/processes.js';

const requests = (toolCall: { name: string; arguments: Record<string, unknown> }) => [
  {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1.0.0' },
    },
  },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
  { jsonrpc: '2.0', id: 3, method: 'tools/call', params: toolCall },
];

/** Speaks raw JSON-RPC to a stdio server, closes its stdin and returns what it wrote. */
const converse = async (
  script: string,
  toolCall: { name: string; arguments: Record<string, unknown> },
  env: NodeJS.ProcessEnv,
) => {
  const child = spawn(process.execPath, [exampleScript(script)], {
    env: testEnv({ OTEL_SERVICE_NAME: 'stdio-protocol-test', ...env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  for (const message of requests(toolCall)) child.stdin.write(`${JSON.stringify(message)}\n`);
  // Let the answers come before closing stdin, as a client that keeps the session open would.
  await new Promise<void>((resolve) => {
    const check = () => (stdout.includes('"id":3') ? resolve() : setTimeout(check, 20));
    check();
  });
  child.stdin.end();
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
};

const servers = [
  ['infra-server.mjs', { name: 'read_state', arguments: { workspace: 'prod-network' } }],
  ['runbook-server.cjs', { name: 'search_runbooks', arguments: { query: 'database failover' } }],
] as const;

// With no collector listening, the telemetry flush at exit retries for a while (about 17 s here).
const EXIT_TIMEOUT_MS = 60_000;

// Verbose diagnostics are what a user turns on when something is wrong: they must not break stdio.
const settings = [
  ['default settings', {}],
  ['OTEL_LOG_LEVEL=debug', { OTEL_LOG_LEVEL: 'debug' }],
] as const;

describe.each(servers)('%s over stdio', (script, toolCall) => {
  it.each(settings)(
    'writes only JSON-RPC to stdout, answers every request and exits when stdin closes (%s)',
    async (_label, env) => {
      const { code, stdout, stderr } = await converse(script, toolCall, env);
      const lines = stdout.split('\n').filter((line) => line.length > 0);
      expect(lines.filter((line) => !line.startsWith('{"'))).toEqual([]);
      const messages = lines.map(
        (line) => JSON.parse(line) as { jsonrpc?: string; id?: number; error?: unknown },
      );
      expect(messages.every((message) => message.jsonrpc === '2.0')).toBe(true);
      expect(messages.map((message) => message.id)).toEqual([1, 2, 3]);
      expect(messages.some((message) => message.error !== undefined)).toBe(false);
      expect(stderr).toContain('serving on stdio');
      expect(code).toBe(0);
    },
    EXIT_TIMEOUT_MS,
  );
});
