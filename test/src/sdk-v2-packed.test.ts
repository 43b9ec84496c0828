import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_SESSION_ID,
  ATTR_MCPSCOPE_TASK_ID,
  ATTR_NETWORK_TRANSPORT,
} from '@mcpscope/instrumentation/conventions';
import type { SpanRecord } from '../../collector/src/model/span.js';
import { eventually, startProcess, type RunningProcess } from './support/processes.js';
import { startRecordingCollector } from './support/recording-collector.js';

/**
 * SDK v2 as a user runs it: the instrumentation packed with `npm pack`, installed from the tarball into a
 * project outside the repository beside the SDK packages from the registry, enabled by the one import in
 * each process. The supported v2 range's upper end (2.4.0) runs every shape; its lower end (2.0.0) the
 * CommonJS stdio server and the ESM agent.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/sdk-v2/', import.meta.url));
const SECRET = ['v2', 'packed', 'Passw0rd', 'c41e'].join('-');

const packInstrumentation = (): string => {
  const destination = join(tmpdir(), 'mcpscope-packs');
  mkdirSync(destination, { recursive: true });
  const output = execFileSync('npm', ['pack', '-w', 'instrumentation', '--pack-destination', destination], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const name = output.trim().split('\n').pop() ?? '';
  return join(destination, name);
};

/** A project outside the repository with the tarball and `packages`, kept between runs of the same tarball. */
const freshProject = (label: string, tarball: string, packages: string[]): string => {
  const digest = createHash('sha256')
    .update(readFileSync(tarball))
    .update(packages.join(' '))
    .digest('hex')
    .slice(0, 16);
  const prefix = `mcpscope-v2-project-${label}-`;
  const dir = join(tmpdir(), `${prefix}${digest}`);
  // Projects of earlier tarballs are of no more use: each holds a full install.
  for (const stale of readdirSync(tmpdir()).filter(
    (name) => name.startsWith(prefix) && name !== `${prefix}${digest}`,
  ))
    rmSync(join(tmpdir(), stale), { recursive: true, force: true });
  if (!existsSync(join(dir, 'node_modules', '@mcpscope', 'instrumentation'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true }, null, 2)}\n`);
    try {
      execFileSync('npm', ['install', '--no-audit', '--no-fund', tarball, ...packages], {
        cwd: dir,
        stdio: 'pipe',
        timeout: 240_000,
      });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
      throw new Error(`could not install ${packages.join(' ')} into a fresh project: ${stderr}`);
    }
  }
  for (const name of readdirSync(fixtures)) copyFileSync(join(fixtures, name), join(dir, name));
  return dir;
};

const v2Packages = (version: string, withNode: boolean) => [
  `@modelcontextprotocol/server@${version}`,
  `@modelcontextprotocol/client@${version}`,
  ...(withNode ? ['@modelcontextprotocol/node@2.1.2'] : []),
  '@modelcontextprotocol/sdk@^1.32.2',
  'zod@^4.2.0',
  '@opentelemetry/api@^1.9.0',
];

let collector: Awaited<ReturnType<typeof startRecordingCollector>>;
let tarball: string;
const running: RunningProcess[] = [];

beforeAll(async () => {
  collector = await startRecordingCollector();
  tarball = packInstrumentation();
}, 120_000);
afterAll(async () => {
  await Promise.all(running.map((process) => process.stop()));
  await collector?.close();
});

const otelEnv = (service: string, extra: Record<string, string> = {}) => ({
  ...process.env,
  OTEL_SERVICE_NAME: service,
  OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
  OTEL_BSP_SCHEDULE_DELAY: '100',
  SECRET,
  ...extra,
});

const startHttpServer = async (project: string, service: string): Promise<string> => {
  const server = startProcess(process.execPath, ['http-server.mjs'], { cwd: project, env: otelEnv(service) });
  running.push(server);
  const [, port] = await server.waitFor(/PORT (\d+)/, 20_000);
  return `http://127.0.0.1:${port}/mcp`;
};

const runAgent = async (project: string, script: string, env: Record<string, string>) => {
  const agent = startProcess(process.execPath, [script], { cwd: project, env: otelEnv('unused', env) });
  expect(await agent.exited, agent.output()).toBe(0);
  expect(agent.output()).not.toContain(SECRET);
};

const spanOf = (service: string, kind: string, tool: string, taskId: string) =>
  collector.waitForSpan(
    (span) =>
      span.serviceName === service &&
      span.kind === kind &&
      span.name === `tools/call ${tool}` &&
      span.attributes[ATTR_MCPSCOPE_TASK_ID] === taskId,
    `${kind} span of ${tool} from ${service} in ${taskId}`,
  );

/** Both sides of one call: the server's span a child of the caller's, in the same trace. */
const expectPaired = (caller: SpanRecord, receiver: SpanRecord) => {
  expect(receiver.traceId).toBe(caller.traceId);
  expect(receiver.parentSpanId).toBe(caller.spanId);
};

const secretFree = () =>
  expect(
    JSON.stringify(collector.spans, (_key, value: unknown) =>
      typeof value === 'bigint' ? String(value) : value,
    ),
  ).not.toContain(SECRET);

describe('SDK v2 from packed tarballs in a fresh project (2.4.0, the upper end of the range)', () => {
  let project: string;
  let infraUrl: string;
  beforeAll(async () => {
    project = freshProject('2.4.0', tarball, v2Packages('2.4.0', true));
    infraUrl = await startHttpServer(project, 'infra-http');
  }, 300_000);

  it('a v2 client agent: an ESM McpServer over HTTP, a CommonJS low-level server over stdio, one trace through v2 → v1 → v2', async () => {
    const taskId = 'task-v2-agent';
    await runAgent(project, 'agent-v2.mjs', {
      OTEL_SERVICE_NAME: 'agent-v2',
      INFRA_URL: infraUrl,
      TASK_ID: taskId,
      WITH_RELAY: '1',
    });

    // The modern era over Streamable HTTP: version from the request's _meta, no session.
    const plan = [
      await spanOf('agent-v2', 'client', 'plan_changes', taskId),
      await spanOf('infra-http', 'server', 'plan_changes', taskId),
    ] as const;
    expectPaired(...plan);
    for (const span of plan) {
      expect(span.attributes[ATTR_MCP_PROTOCOL_VERSION]).toBe('2026-07-28');
      expect(span.attributes[ATTR_MCP_SESSION_ID]).toBeUndefined();
      expect(span.attributes[ATTR_NETWORK_TRANSPORT]).toBe('tcp');
      expect(String(span.attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS])).toContain('[REDACTED');
    }
    const apply = [
      await spanOf('agent-v2', 'client', 'apply_plan', taskId),
      await spanOf('infra-http', 'server', 'apply_plan', taskId),
    ] as const;
    expectPaired(...apply);
    for (const span of apply) expect(span.attributes[ATTR_ERROR_TYPE]).toBe('tool_error');

    // The CommonJS low-level server over stdio: a success and a JSON-RPC error with its code.
    const lookupServersOfTask = () =>
      collector.spans.filter(
        (span) =>
          span.serviceName === 'lookup-stdio' &&
          span.name === 'tools/call lookup' &&
          span.attributes[ATTR_MCPSCOPE_TASK_ID] === taskId,
      );
    await eventually(() => lookupServersOfTask().length >= 2 || undefined, {
      what: 'both lookup server spans',
      timeoutMs: 20_000,
    });
    const lookupServers = lookupServersOfTask();
    expect(lookupServers.map((span) => span.attributes[ATTR_ERROR_TYPE] ?? 'ok').sort()).toEqual([
      '-32602',
      'ok',
    ]);
    for (const server of lookupServers) {
      expect(server.attributes[ATTR_NETWORK_TRANSPORT]).toBe('pipe');
      const caller = collector.spans.find((span) => span.spanId === server.parentSpanId);
      expect(caller?.serviceName).toBe('agent-v2');
      expect(caller?.attributes[ATTR_ERROR_TYPE]).toBe(server.attributes[ATTR_ERROR_TYPE]);
    }

    // v2 agent → v1 relay → v2 HTTP server: one trace, each hop a parent of the next.
    const relayCaller = await spanOf('agent-v2', 'client', 'relay_plan', taskId);
    const relayServer = await spanOf('relay-v1', 'server', 'relay_plan', taskId);
    const onward = await spanOf('relay-v1', 'client', 'plan_changes', taskId);
    const final = await collector.waitForSpan(
      (span) =>
        span.serviceName === 'infra-http' && span.kind === 'server' && span.parentSpanId === onward.spanId,
      'the v2 server span under the relay',
    );
    expectPaired(relayCaller, relayServer);
    expectPaired(onward, final);
    expect(onward.traceId).toBe(relayServer.traceId);
    expect(new Set([relayCaller, relayServer, onward, final].map((span) => span.traceId)).size).toBe(1);
    secretFree();
  });

  it('a v1 client agent (CommonJS) calling both v2 servers', async () => {
    const taskId = 'task-v1-agent';
    await runAgent(project, 'agent-v1.cjs', {
      OTEL_SERVICE_NAME: 'agent-v1',
      INFRA_URL: infraUrl,
      TASK_ID: taskId,
    });
    expectPaired(
      await spanOf('agent-v1', 'client', 'plan_changes', taskId),
      await spanOf('infra-http', 'server', 'plan_changes', taskId),
    );
    expectPaired(
      await spanOf('agent-v1', 'client', 'lookup', taskId),
      await spanOf('lookup-stdio', 'server', 'lookup', taskId),
    );
    secretFree();
  });
});

describe('SDK v2 at the lower end of the range (2.0.0)', () => {
  it('a v2 ESM agent and a v2 CommonJS stdio server, both instrumented by the one import', async () => {
    const project = freshProject('2.0.0', tarball, v2Packages('2.0.0', false));
    const taskId = 'task-v2-oldest';
    // No HTTP server in this project: the agent's HTTP calls fail fast against a closed port, and the
    // stdio calls are what this case is about.
    const agent = startProcess(process.execPath, ['-e', stdioOnlyAgent], {
      cwd: project,
      env: otelEnv('agent-v2-oldest', { TASK_ID: taskId }),
    });
    expect(await agent.exited, agent.output()).toBe(0);
    expectPaired(
      await spanOf('agent-v2-oldest', 'client', 'lookup', taskId),
      await spanOf('lookup-stdio', 'server', 'lookup', taskId),
    );
  }, 300_000);
});

/** The stdio half of `agent-v2.mjs`, for a project without the HTTP server. */
const stdioOnlyAgent = `
require('@mcpscope/instrumentation/register');
const { withTask } = require('@mcpscope/instrumentation');
(async () => {
  const { Client } = await import('@modelcontextprotocol/client');
  const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
  await withTask(process.env.TASK_ID, async () => {
    const client = new Client({ name: 'agent-v2-oldest', version: '2.0.0' });
    await client.connect(new StdioClientTransport({
      command: process.execPath,
      args: ['stdio-server.cjs'],
      env: { ...process.env, OTEL_SERVICE_NAME: 'lookup-stdio' },
      stderr: 'inherit',
    }));
    await client.callTool({ name: 'lookup', arguments: { topic: 'oldest' } });
    await client.close();
  });
})().catch((error) => { console.error(error); process.exit(1); });
`;
