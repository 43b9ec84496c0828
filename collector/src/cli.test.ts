import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCPSCOPE_TASK_ID,
} from '@mcpscope/instrumentation/conventions';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const runCli = (args: string[], env: Record<string, string> = {}) => {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output, exited };
};

const waitFor = async (check: () => boolean, what: string) => {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const attribute = (key: string, value: string) => ({ key, value: { stringValue: value } });

describe('mcpscope CLI', () => {
  it('exits non-zero naming the setting when a value is bad', async () => {
    const bad = runCli(['collector', '--http-port', 'eighty']);
    expect(await bad.exited).not.toBe(0);
    expect(bad.output.stderr).toContain(
      'httpPort (--http-port or MCPSCOPE_HTTP_PORT): expected an integer from 0 to 65535',
    );

    const remote = runCli(['collector'], { MCPSCOPE_HOST: '0.0.0.0' });
    expect(await remote.exited).not.toBe(0);
    expect(remote.output.stderr).toContain('invalid setting host');

    // A command line it cannot read is a usage error too: exit 2, as for a bad setting.
    const unknown = runCli(['collector', '--htp-port', '80']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.output.stderr).toContain("unknown option '--htp-port'");
  });

  it('names the setting to change when a port or the database file is taken', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcpscope-cli-'));
    dirs.push(dir);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const http = runCli([
        'collector',
        '--grpc-port',
        '0',
        '--http-port',
        String(port),
        '--db-path',
        join(dir, 'a.duckdb'),
      ]);
      expect(await http.exited).toBe(1);
      expect(http.output.stderr).toContain(
        `the HTTP port (OTLP/HTTP, API, metrics) 127.0.0.1:${port} is already in use`,
      );
      expect(http.output.stderr).toContain('--http-port or MCPSCOPE_HTTP_PORT');

      const grpc = runCli([
        'collector',
        '--grpc-port',
        String(port),
        '--http-port',
        '0',
        '--db-path',
        join(dir, 'b.duckdb'),
      ]);
      expect(await grpc.exited).toBe(1);
      expect(grpc.output.stderr).toContain(`the OTLP/gRPC port 127.0.0.1:${port} is already in use`);
      expect(grpc.output.stderr).toContain('--grpc-port or MCPSCOPE_GRPC_PORT');
    } finally {
      taken.close();
    }

    const dbPath = join(dir, 'owned.duckdb');
    const first = runCli(['collector', '--grpc-port', '0', '--http-port', '0', '--db-path', dbPath]);
    await waitFor(() => first.output.stdout.includes('is listening'), 'the first collector');
    const second = runCli(['collector', '--grpc-port', '0', '--http-port', '0', '--db-path', dbPath]);
    expect(await second.exited).toBe(1);
    expect(second.output.stderr).toContain(`the database ${dbPath} is open in another process`);
    expect(second.output.stderr).toContain('--db-path or MCPSCOPE_DB_PATH');
    // The first one is untouched by the second's attempt.
    expect(first.child.exitCode).toBeNull();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });

  it('shows each setting with its variable and default in --help', async () => {
    const help = runCli(['collector', '--help']);
    expect(await help.exited).toBe(0);
    const text = help.output.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('[MCPSCOPE_GRPC_PORT] (default: 4317)');
    expect(text).toContain('[MCPSCOPE_DB_PATH] (default: ./data/mcpscope.duckdb)');
  });

  it('reads the collector URL for `tasks` from MCPSCOPE_COLLECTOR_URL, and says how to set it when none answers', async () => {
    const unused = createServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    const { port } = unused.address() as AddressInfo;
    await new Promise((resolve) => unused.close(resolve));
    const tasks = runCli(['tasks'], { MCPSCOPE_COLLECTOR_URL: `http://127.0.0.1:${port}` });
    expect(await tasks.exited).toBe(1);
    expect(tasks.output.stderr).toBe(
      `mcpscope tasks: no collector answered at http://127.0.0.1:${port}; is it running? Give its HTTP address with --url or MCPSCOPE_COLLECTOR_URL\n`,
    );
  });

  it('runs the collector, tells how to point an exporter at it, lists tasks, and stops cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcpscope-cli-'));
    dirs.push(dir);
    const collector = runCli([
      'collector',
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--db-path',
      join(dir, 'db.duckdb'),
    ]);
    await waitFor(
      () => collector.output.stdout.includes('OTEL_EXPORTER_OTLP_ENDPOINT='),
      'the listening banner',
    );
    expect(collector.output.stdout).toMatch(/OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:\d+/);
    const base = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/tasks/.exec(collector.output.stdout)?.[1] ?? '';

    const start = BigInt(Date.now()) * 1_000_000n;
    const response = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [attribute('service.name', 'cli-agent')] },
            scopeSpans: [
              {
                scope: { name: 'cli-test' },
                spans: [
                  {
                    traceId: '5b8efff798038103d269b633813fc60c',
                    spanId: 'eee19b7ec3c1b174',
                    name: 'tools/call deploy',
                    kind: 3,
                    startTimeUnixNano: String(start),
                    endTimeUnixNano: String(start + 5_000_000n),
                    attributes: [
                      attribute(ATTR_MCP_METHOD_NAME, 'tools/call'),
                      attribute(ATTR_GEN_AI_TOOL_NAME, 'deploy'),
                      attribute(ATTR_MCPSCOPE_TASK_ID, 'cli-task-1'),
                    ],
                    status: {},
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(response.status).toBe(200);

    const tasks = runCli(['tasks', '--url', base]);
    expect(await tasks.exited).toBe(0);
    const [header, row] = tasks.output.stdout.trim().split('\n');
    expect(header).toMatch(/^TASK\s+STARTED\s+OUTCOME/);
    expect(row).toMatch(/^cli-task-1\s+\S+\s+success\s+5\.0ms\s+1\s+0\s+0\s+0\/0\s+0\s+-\s+cli-agent$/);

    // Filters reach the API; --json prints its answer for scripts.
    const matching = runCli(['tasks', '--url', base, '--tool', 'deploy', '--since', '1h', '--json']);
    expect(await matching.exited).toBe(0);
    const listed = JSON.parse(matching.output.stdout) as { tasks: { taskId: string; toolCalls: number }[] };
    expect(listed.tasks.map((task) => [task.taskId, task.toolCalls])).toEqual([['cli-task-1', 1]]);
    const otherTool = runCli(['tasks', '--url', base, '--tool', 'rollback']);
    expect(await otherTool.exited).toBe(0);
    expect(otherTool.output.stdout).toBe('no tasks yet\n');
    const otherService = runCli(['tasks', '--url', base, '--service', 'billing-agent', '--json']);
    expect(await otherService.exited).toBe(0);
    expect(JSON.parse(otherService.output.stdout)).toMatchObject({ tasks: [] });
    // One task: its calls in time order, and where the web view shows it.
    expect(collector.output.stdout).toContain(`Web view    ${base}/`);
    const one = runCli(['task', 'cli-task-1', '--url', base]);
    expect(await one.exited).toBe(0);
    const lines = one.output.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^cli-task-1 {2}success {2}5\.0ms {2}started /);
    expect(lines.find((line) => line.startsWith(' 1  deploy'))).toMatch(
      /^ 1 {2}deploy\s+cli-agent\s+ok\s+5\.0ms {2}█+$/,
    );
    expect(lines.at(-1)).toBe(`In the web view: ${base}/tasks/cli-task-1`);
    const page = await fetch(`${base}/tasks/cli-task-1`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const unknown = runCli(['task', 'no-such-task', '--url', base]);
    expect(await unknown.exited).toBe(1);
    expect(unknown.output.stderr).toBe('mcpscope task: 404 no task with this id\n');

    const badSince = runCli(['tasks', '--url', base, '--since', 'yesterday-ish']);
    expect(await badSince.exited).toBe(1);
    expect(badSince.output.stderr).toContain('mcpscope tasks: 400');

    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);
    expect(collector.output.stderr).toContain('"msg":"collector stopped"');
    for (const line of collector.output.stderr.trim().split('\n'))
      expect(() => JSON.parse(line)).not.toThrow();
  }, 120_000); // eight CLI processes under tsx, each several seconds on a busy 2-core machine

  it('prints task ids and service names from spans without the terminal acting on their control characters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcpscope-cli-'));
    dirs.push(dir);
    const collector = runCli([
      'collector',
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--db-path',
      join(dir, 'db.duckdb'),
    ]);
    await waitFor(
      () => collector.output.stdout.includes('OTEL_EXPORTER_OTLP_ENDPOINT='),
      'the listening banner',
    );
    const base = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/tasks/.exec(collector.output.stdout)?.[1] ?? '';
    // Set the window title, clear the screen, a C1 CSI, a right-to-left override.
    const hostileTask = 'task\u001b]0;owned\u0007\u001b[2J\u009b31m\u202eevil';
    const hostileService = 'svc\u001b[1A\r\u0008\u0008ok';
    const start = BigInt(Date.now()) * 1_000_000n;
    const response = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [attribute('service.name', hostileService)] },
            scopeSpans: [
              {
                scope: { name: 'cli-test' },
                spans: [
                  {
                    traceId: '6b8efff798038103d269b633813fc60c',
                    spanId: 'fee19b7ec3c1b174',
                    name: 'tools/call deploy',
                    kind: 3,
                    startTimeUnixNano: String(start),
                    endTimeUnixNano: String(start + 5_000_000n),
                    attributes: [
                      attribute(ATTR_MCP_METHOD_NAME, 'tools/call'),
                      attribute(ATTR_GEN_AI_TOOL_NAME, 'deploy'),
                      attribute(ATTR_MCPSCOPE_TASK_ID, hostileTask),
                    ],
                    status: {},
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    // eslint-disable-next-line no-control-regex -- what a terminal acts on
    const actedOn = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    const table = runCli(['tasks', '--url', base]);
    expect(await table.exited).toBe(0);
    expect(table.output.stdout).not.toMatch(actedOn);
    // The table cuts long ids; what it shows is the escaped text.
    expect(table.output.stdout).toContain('task\\x1b]0;owned\\x07\\x1b[2J\\x9b31…');
    expect(table.output.stdout).toContain('svc\\x1b[1A\\x0d\\x08\\x08ok');
    const json = runCli(['tasks', '--url', base, '--json']);
    expect(await json.exited).toBe(0);
    expect(json.output.stdout).not.toMatch(actedOn);
    const parsed = JSON.parse(json.output.stdout) as { tasks: { taskId: string; services: string[] }[] };
    expect(parsed.tasks.map((task) => [task.taskId, task.services])).toEqual([
      [hostileTask, [hostileService]],
    ]);
    const one = runCli(['task', hostileTask, '--url', base]);
    expect(await one.exited).toBe(0);
    expect(one.output.stdout).not.toMatch(actedOn);
    expect(one.output.stdout).toContain('svc\\x1b[1A');
    expect(one.output.stdout).toContain('task\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u{202e}evil');
    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);
  }, 120_000);
});
