import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollectorProcess, type CollectorProcess } from '../support/collector-process.js';
import { eventually, freePort, startProcess } from '../support/processes.js';

const agentScript = fileURLToPath(new URL('../fixtures/stdio-session/agent.mjs', import.meta.url));
/** The issue this guards against: 5 s for the server alone and 9 s for the session while the collector was down. */
const EXIT_AFTER_CALLS_WITHIN_MS = 1_500;

interface Session {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From the agent's last call answered to `client.close()` returning (the server has exited). */
  closeMs: number;
  /** From the agent's last call answered to the agent process gone. */
  exitMs: number;
}

/** An agent that spawns the one-import stdio server, makes three calls as one task, and closes. */
const runSession = async (serviceName: string, endpoint: string): Promise<Session> => {
  const agent = startProcess(process.execPath, [agentScript], {
    env: { ...process.env, OTEL_SERVICE_NAME: serviceName, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
  });
  let exitedAt = 0;
  const code = await agent.exited.then((value) => {
    exitedAt = Date.now();
    return value;
  });
  const stderr = agent.stderr();
  const callsDone = Number(/^calls-done (\d+)$/m.exec(stderr)?.[1]);
  const closed = Number(/^closed (\d+)$/m.exec(stderr)?.[1]);
  expect(callsDone, stderr).toBeGreaterThan(0);
  expect(closed, stderr).toBeGreaterThan(0);
  return { code, stdout: agent.stdout(), stderr, closeMs: closed - callsDone, exitMs: exitedAt - callsDone };
};

const mcpscopeLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('[mcpscope]'));

let dir: string;
let collector: CollectorProcess;
let httpPort: number;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpscope-session-'));
  httpPort = await freePort();
  collector = await startCollectorProcess({
    httpPort,
    grpcPort: await freePort(),
    dbPath: join(dir, 'session.duckdb'),
  });
});
afterAll(async () => {
  await collector?.process.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a short stdio session (agent and one-import server)', () => {
  it(
    'with the collector up: delivers its task and exits promptly, silently',
    { timeout: 60_000 },
    async () => {
      const session = await runSession('session-up', collector.grpcUrl);
      expect(session.code, session.stderr).toBe(0);
      expect(mcpscopeLines(session.stderr)).toEqual([]);
      const task = await eventually(
        async () => {
          const body = (await (await fetch(`${collector.url}/api/tasks?service=session-up`)).json()) as {
            tasks: { toolCalls: number; services: string[] }[];
          };
          return body.tasks[0];
        },
        { what: 'the session task' },
      );
      expect(task).toMatchObject({ toolCalls: 3, services: ['session-up', 'session-up-server'] });
      console.info(
        `collector up: close() ${session.closeMs} ms, exit ${session.exitMs} ms after the last call`,
      );
    },
  );

  it(
    'with nothing listening: exits within a second or two of its last call, one warning per process naming the endpoint',
    { timeout: 60_000 },
    async () => {
      const endpoint = `http://127.0.0.1:${await freePort()}`;
      const session = await runSession('session-down', endpoint);
      expect(session.code, session.stderr).toBe(0);
      expect(session.exitMs, session.stderr).toBeLessThan(EXIT_AFTER_CALLS_WITHIN_MS);
      expect(session.stdout).toBe('');
      // One line from the agent, one from the server it spawned (which shares its stderr).
      const lines = mcpscopeLines(session.stderr);
      expect(lines, session.stderr).toHaveLength(2);
      for (const line of lines) {
        expect(line).toMatch(
          new RegExp(
            `^\\[mcpscope\\] warn mcpscope: \\d+ spans could not be delivered to the collector at ${endpoint} and are dropped \\(\\d+ since start\\): nothing listens there; is the collector running \\(\`npx mcpscope collector\`\\)`,
          ),
        );
      }
      expect(session.stderr).not.toMatch(/^\s+at /m);
      console.info(
        `collector down: close() ${session.closeMs} ms, exit ${session.exitMs} ms after the last call`,
      );
    },
  );

  it(
    "aimed at the collector's HTTP port: exits as promptly and says the port does not speak OTLP/gRPC",
    { timeout: 60_000 },
    async () => {
      const session = await runSession('session-wrong-port', collector.url);
      expect(session.code, session.stderr).toBe(0);
      expect(session.exitMs, session.stderr).toBeLessThan(EXIT_AFTER_CALLS_WITHIN_MS);
      const lines = mcpscopeLines(session.stderr);
      expect(lines, session.stderr).toHaveLength(2);
      for (const line of lines) {
        expect(line).toContain(`to the collector at ${collector.url} and are dropped`);
        expect(line).toContain('something answered that does not speak OTLP/gRPC');
        expect(line).toContain('OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf');
      }
      expect(session.stderr).not.toMatch(/^\s+at /m);
    },
  );
});
