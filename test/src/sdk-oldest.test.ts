import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_MCPSCOPE_TASK_ID,
} from '@mcpscope/instrumentation/conventions';
import { startProcess } from './support/processes.js';
import { startRecordingCollector } from './support/recording-collector.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/sdk-oldest/', import.meta.url));

/** The lower bound of the SDK range the instrumentation declares (`>=1.10.0 <2`). */
const oldestSupported = (): string => {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'instrumentation', 'package.json'), 'utf8')) as {
    peerDependencies: Record<string, string>;
  };
  const range = manifest.peerDependencies['@modelcontextprotocol/sdk'] ?? '';
  const lowest = /^>=(\d+\.\d+\.\d+)\b/.exec(range)?.[1];
  if (lowest === undefined) throw new Error(`no lower bound in the declared SDK range "${range}"`);
  return lowest;
};

/**
 * A project of its own under the repository (so `@mcpscope/instrumentation` resolves to the workspace
 * build) with the oldest supported SDK installed from the registry, kept between runs.
 */
const projectWithOldestSdk = (version: string): string => {
  const dir = join(repoRoot, 'test', '.cache', `sdk-${version}`);
  const installed = join(dir, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json');
  const installedVersion = existsSync(installed)
    ? (JSON.parse(readFileSync(installed, 'utf8')) as { version: string }).version
    : undefined;
  if (installedVersion !== version) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true }, null, 2)}\n`);
    try {
      execFileSync(
        'npm',
        ['install', '--no-audit', '--no-fund', '--no-package-lock', `@modelcontextprotocol/sdk@${version}`],
        { cwd: dir, stdio: 'pipe', timeout: 180_000 },
      );
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
      throw new Error(`could not install @modelcontextprotocol/sdk@${version} from npm: ${stderr}`);
    }
  }
  for (const name of ['agent.mjs', 'agent.cjs']) copyFileSync(join(fixtures, name), join(dir, name));
  return dir;
};

const SECRET = ['oldest', 'sdk', 'Passw0rd', '7f3a'].join('-');

let collector: Awaited<ReturnType<typeof startRecordingCollector>>;
let project: string;
let version: string;
beforeAll(async () => {
  version = oldestSupported();
  project = projectWithOldestSdk(version);
  collector = await startRecordingCollector();
}, 240_000);
afterAll(() => collector?.close());

describe('the oldest MCP SDK the instrumentation declares', () => {
  it.each([
    ['ESM (import)', 'agent.mjs', 'oldest-sdk-esm'],
    ['CommonJS (require)', 'agent.cjs', 'oldest-sdk-cjs'],
  ])('is observed through the one import, loaded as %s', async (_label, script, serviceName) => {
    const taskId = `task-${serviceName}`;
    const agent = startProcess(process.execPath, [join(project, script)], {
      cwd: project,
      env: {
        ...process.env,
        OTEL_SERVICE_NAME: serviceName,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        TASK_ID: taskId,
        SECRET,
      },
    });
    expect(await agent.exited, agent.stderr()).toBe(0);
    const sdkVersion = (
      JSON.parse(
        readFileSync(join(project, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json'), 'utf8'),
      ) as { version: string }
    ).version;
    expect(sdkVersion).toBe(version);

    const ofTask = (name: string, kind: string) =>
      collector.waitForSpan(
        (span) =>
          span.serviceName === serviceName &&
          span.name === name &&
          span.kind === kind &&
          span.attributes[ATTR_MCPSCOPE_TASK_ID] === taskId,
        `${kind} span ${name} of ${serviceName}`,
      );
    const planClient = await ofTask('tools/call plan_changes', 'client');
    const planServer = await ofTask('tools/call plan_changes', 'server');
    // One trace across the hop, the server's span a child of the caller's.
    expect(planServer.traceId).toBe(planClient.traceId);
    expect(planServer.parentSpanId).toBe(planClient.spanId);
    for (const span of [planClient, planServer]) {
      const recorded = String(span.attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]);
      expect(recorded).toContain('"workspace":"prod"');
      expect(recorded).toContain('[REDACTED');
    }
    const applyServer = await ofTask('tools/call apply_plan', 'server');
    const applyClient = await ofTask('tools/call apply_plan', 'client');
    for (const span of [applyServer, applyClient]) {
      expect(span.attributes[ATTR_ERROR_TYPE]).toBe('tool_error');
      expect(span.statusCode).toBe('error');
    }
    expect(
      JSON.stringify(collector.spans, (_key, value: unknown) =>
        typeof value === 'bigint' ? String(value) : value,
      ),
    ).not.toContain(SECRET);
    expect(agent.stdout()).not.toContain(SECRET);
    expect(agent.stderr()).not.toContain(SECRET);
  });
});
