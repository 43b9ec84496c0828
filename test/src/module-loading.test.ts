import { cpSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_MCPSCOPE_TASK_ID,
} from '@mcpscope/instrumentation/conventions';
import { startProcess } from './support/processes.js';
import { startRecordingCollector } from './support/recording-collector.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/module-loading/', import.meta.url));
const SECRET = ['module', 'loading', 'Passw0rd', '91c4'].join('-');

/**
 * A copy of the workspace's SDK where neither the fixtures nor the working directory resolve it,
 * under a `node_modules` of its own (as a vendored or nested install is), optionally labelled with
 * another version.
 */
const sdkCopy = (name: string, version?: string): string => {
  const installed = realpathSync(join(repoRoot, 'node_modules', '@modelcontextprotocol', 'sdk'));
  const copy = join(repoRoot, 'test', '.cache', name, 'node_modules', '@modelcontextprotocol', 'sdk');
  if (!existsSync(join(copy, 'package.json'))) cpSync(installed, copy, { recursive: true });
  if (version !== undefined) {
    const manifest = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as { version: string };
    writeFileSync(join(copy, 'package.json'), JSON.stringify({ ...manifest, version }, null, 2));
  }
  return copy;
};

let collector: Awaited<ReturnType<typeof startRecordingCollector>>;
beforeAll(async () => {
  collector = await startRecordingCollector();
});
afterAll(() => collector?.close());

/** Runs a fixture as service `label`, task `task-{label}`, exporting to the recording collector; it must exit 0. */
const runAgent = async (label: string, nodeArgs: string[], env: Record<string, string> = {}) => {
  const agent = startProcess(process.execPath, nodeArgs, {
    cwd: repoRoot,
    env: {
      ...process.env,
      OTEL_SERVICE_NAME: label,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      TASK_ID: `task-${label}`,
      SECRET,
      ...env,
    },
  });
  expect(await agent.exited, agent.stderr()).toBe(0);
  return agent;
};

const run = async (label: string, nodeArgs: string[], env: Record<string, string> = {}) => {
  const taskId = `task-${label}`;
  const agent = await runAgent(label, nodeArgs, env);
  const ofTask = (kind: string) =>
    collector.waitForSpan(
      (span) =>
        span.serviceName === label &&
        span.kind === kind &&
        span.name.startsWith('tools/call ') &&
        span.attributes[ATTR_MCPSCOPE_TASK_ID] === taskId,
      `${kind} tools/call span of ${label}`,
    );
  const [client, server] = [await ofTask('client'), await ofTask('server')];
  // One trace across the hop, the server's span a child of the caller's, arguments redacted on both.
  expect(server.traceId).toBe(client.traceId);
  expect(server.parentSpanId).toBe(client.spanId);
  for (const span of [client, server]) {
    expect(String(span.attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS])).toContain('[REDACTED');
  }
  expect(
    JSON.stringify(collector.spans, (_key, value: unknown) =>
      typeof value === 'bigint' ? String(value) : value,
    ),
  ).not.toContain(SECRET);
  expect(agent.stdout() + agent.stderr()).not.toContain(SECRET);
  return { client, server };
};

describe('SDK copies loaded after the one import, wherever and however they load', () => {
  it('observes the ESM build reached through import() from a CommonJS application', async () => {
    const { client } = await run('dynamic-import', [join(fixtures, 'dynamic-import.cjs')]);
    expect(client.name).toBe('tools/call list_instances');
  });

  it('does the same with the one import preloaded by `node --require`', async () => {
    const { server } = await run('dynamic-import-preloaded', [
      '--require',
      '@mcpscope/instrumentation/register',
      join(fixtures, 'dynamic-import.cjs'),
    ]);
    expect(server.name).toBe('tools/call list_instances');
  });

  it('does the same with the one import loaded by `node --import`', async () => {
    const { client } = await run('dynamic-import-imported', [
      '--import',
      '@mcpscope/instrumentation/register',
      join(fixtures, 'dynamic-import.cjs'),
    ]);
    expect(client.name).toBe('tools/call list_instances');
  });

  it('observes an ESM application with the one import preloaded by `node --require`', async () => {
    const { client } = await run('preloaded-esm', [
      '--require',
      '@mcpscope/instrumentation/register',
      join(fixtures, 'preloaded.mjs'),
    ]);
    expect(client.name).toBe('tools/call read_state');
  });

  it('observes a CommonJS copy installed where nothing resolves it, on the low-level Server', async () => {
    const { server } = await run('sdk-elsewhere', [join(fixtures, 'sdk-elsewhere.cjs')], {
      SDK_DIR: sdkCopy('sdk-elsewhere'),
    });
    expect(server.name).toBe('tools/call read_state');
  });

  it('observes an ESM copy nothing resolves at start in an ESM application, with the loader hook asked for', async () => {
    const { client, server } = await run(
      'esm-elsewhere',
      ['--import', '@mcpscope/instrumentation/register', join(fixtures, 'esm-elsewhere.mjs')],
      { SDK_DIR: sdkCopy('sdk-elsewhere'), MCPSCOPE_ESM_LOADER_HOOK: 'on' },
    );
    expect([client.name, server.name]).toEqual(['tools/call read_state', 'tools/call read_state']);
  });

  it('leaves a copy outside the supported range unpatched, and the program working', async () => {
    const label = 'sdk-out-of-range';
    await runAgent(label, [join(fixtures, 'sdk-elsewhere.cjs')], { SDK_DIR: sdkCopy(label, '1.9.0') });
    // Spans are flushed before the process exits: a patched copy's would be here by now.
    expect(collector.spans.filter((span) => span.serviceName === label)).toEqual([]);
  });
});
