import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, startProcess, type RunningProcess } from '../support/processes.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const quickStart = join(repoRoot, 'examples', 'quick-start');
const QUICK_START_FILES = ['server.mjs', 'agent.mjs'];

/**
 * The environment of a user's shell: none of the `npm_*` variables an outer `npm test` sets (they
 * would point npm at the repository's workspace).
 */
const userEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name))),
  ...extra,
});

let work: string;
let project: string;
let collector: RunningProcess | undefined;
let grpcPort: number;
let httpPort: number;

beforeAll(async () => {
  // Outside the repository, so nothing resolves through its workspace.
  work = mkdtempSync(join(tmpdir(), 'mcpscope-first-hour-'));
  const tarballs = join(work, 'tarballs');
  project = join(work, 'my-agent');
  // The README's first step, in the repository: pack builds what it packs.
  mkdirSync(tarballs);
  await run('npm', ['run', 'pack', '--', '--pack-destination', tarballs], {
    cwd: repoRoot,
    env: userEnv(),
    timeout: 240_000,
  }).catch((error: { stderr?: string }) => {
    throw new Error(`npm run pack failed: ${error.stderr ?? String(error)}`);
  });
  const packed = readdirSync(tarballs).sort();
  expect(packed).toEqual(['mcpscope-collector-0.1.0.tgz', 'mcpscope-instrumentation-0.1.0.tgz']);

  // The second step, in a fresh project. The @mcpscope scope points at a registry that cannot answer:
  // installing works only if nothing under @mcpscope/* is looked up there.
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'my-agent', private: true }, null, 2)}\n`,
  );
  writeFileSync(join(project, '.npmrc'), '@mcpscope:registry=http://127.0.0.1:9/\n');
  for (const file of QUICK_START_FILES) copyFileSync(join(quickStart, file), join(project, file));
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...packed.map((name) => join(tarballs, name)),
      '@modelcontextprotocol/sdk',
      'zod',
    ],
    { cwd: project, env: userEnv(), timeout: 300_000 },
  ).catch((error: { stderr?: string }) => {
    throw new Error(`installing the tarballs failed: ${error.stderr ?? String(error)}`);
  });

  grpcPort = await freePort();
  httpPort = await freePort();
}, 600_000);

afterAll(async () => {
  // npx runs the collector as its child: stop the whole process group, as Ctrl-C in a terminal does.
  const pid = collector?.child.pid;
  if (collector && pid !== undefined && collector.child.exitCode === null) {
    process.kill(-pid, 'SIGINT');
    const killer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 15_000);
    await collector.exited;
    clearTimeout(killer);
  }
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

describe("the README's quick start, from packed tarballs in a fresh project", () => {
  it('shows the example files whole', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const file of QUICK_START_FILES) {
      expect(readme, `README.md shows examples/quick-start/${file}`).toContain(
        readFileSync(join(quickStart, file), 'utf8').trim(),
      );
    }
  });

  it(
    'runs the collector from the installed bin, the agent and its server, and lists the task with `npx mcpscope tasks`',
    { timeout: 180_000 },
    async () => {
      collector = startProcess('npx', ['mcpscope', 'collector'], {
        cwd: project,
        detached: true,
        env: userEnv({ MCPSCOPE_GRPC_PORT: String(grpcPort), MCPSCOPE_HTTP_PORT: String(httpPort) }),
      });
      await collector.waitFor(/is listening/, 60_000);
      expect(collector.stdout()).toContain(`OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${grpcPort}`);

      const agent = startProcess(process.execPath, ['agent.mjs'], {
        cwd: project,
        env: userEnv({
          OTEL_SERVICE_NAME: 'deploy-agent',
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${grpcPort}`,
        }),
      });
      expect(await agent.exited, agent.output()).toBe(0);
      const taskId = /^task (restart-api-\d+): 3 tool calls$/m.exec(agent.stdout())?.[1];
      expect(taskId, agent.output()).toBeDefined();
      // Delivered: nothing about dropped spans.
      expect(agent.stderr()).not.toContain('[mcpscope]');

      const collectorUrl = `http://127.0.0.1:${httpPort}`;
      const row = await eventually(
        async () => {
          const tasks = startProcess('npx', ['mcpscope', 'tasks'], {
            cwd: project,
            env: userEnv({ MCPSCOPE_COLLECTOR_URL: collectorUrl }),
          });
          if ((await tasks.exited) !== 0) throw new Error(tasks.output());
          const line = tasks
            .stdout()
            .split('\n')
            .find((candidate) => candidate.startsWith(taskId ?? '-'));
          // Both sides' spans have arrived once the server is listed.
          return line?.includes('deploy-server') ? line : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1_000, what: `task ${taskId} in \`npx mcpscope tasks\`` },
      );
      // TASK, STARTED, OUTCOME, DURATION, CALLS, FAILED, RETRIES, TOKENS, AUTH FAIL, FEEDBACK, SERVICES
      expect(row).toMatch(
        new RegExp(
          `^${taskId}\\s+\\S+\\s+success\\s+\\S+\\s+3\\s+0\\s+0\\s+0/0\\s+0\\s+-\\s+deploy-agent,deploy-server$`,
        ),
      );

      // The OTLP/HTTP exporters are optional peers, not installed by the quick start: asking for one
      // says what to install, and the agent still runs, uninstrumented.
      const overHttp = startProcess(process.execPath, ['agent.mjs'], {
        cwd: project,
        env: userEnv({
          OTEL_SERVICE_NAME: 'deploy-agent',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
          OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
        }),
      });
      expect(await overHttp.exited, overHttp.output()).toBe(0);
      expect(overHttp.stderr()).toContain(
        'OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf needs @opentelemetry/exporter-trace-otlp-proto, which is not installed: npm install @opentelemetry/exporter-trace-otlp-proto',
      );

      // The password argument was redacted before it left either process.
      const detail = await (await fetch(`${collectorUrl}/api/tasks/${taskId}`)).text();
      expect(detail).toContain('restart_service');
      expect(detail).not.toContain('hunter2');
    },
  );
});
