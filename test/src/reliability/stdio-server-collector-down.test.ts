import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startProcess } from '../support/processes.js';
import { startFaultEndpoint, type FaultEndpoint } from './support/fault-endpoints.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
/** Long enough for any flush attempt the SDK makes on exit; a server that hangs on exit never gets there. */
const EXIT_WITHIN_MS = 15_000;
const CALLS = 200;

let fault: FaultEndpoint | undefined;
afterEach(async () => {
  await fault?.close();
  fault = undefined;
});

describe('a stdio MCP server with the one import and its collector down', () => {
  it.each(['refused', 'hang'] as const)(
    'answers every request and exits when stdin closes (%s)',
    { timeout: 60_000 },
    async (kind) => {
      fault = await startFaultEndpoint(kind);
      const server = startProcess(process.execPath, [fixture('esm-stdio-server.mjs')], {
        env: {
          ...process.env,
          OTEL_SERVICE_NAME: `collector-down-${kind}`,
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${fault.port}`,
          OTEL_BSP_SCHEDULE_DELAY: '100',
        },
      });
      const send = (message: object) => server.child.stdin?.write(`${JSON.stringify(message)}\n`);
      send({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'test', version: '1' },
        },
      });
      await server.waitFor(/"id":0/);
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      for (let id = 1; id <= CALLS; id += 1) {
        send({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'list_workspaces', arguments: { filter: `f${id}` } },
        });
      }
      await server.waitFor(new RegExp(`"id":${CALLS}\\b`));

      const answers = server
        .stdout()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map(
          (line) =>
            JSON.parse(line) as {
              id?: number;
              result?: { content?: Array<{ text?: string }> };
              error?: unknown;
            },
        );
      const toolAnswers = answers.filter((answer) => typeof answer.id === 'number' && answer.id > 0);
      expect(toolAnswers).toHaveLength(CALLS);
      for (const answer of toolAnswers) {
        expect(answer.error).toBeUndefined();
        expect(answer.result?.content?.[0]?.text).toBe('prod, staging');
      }

      const closedAt = Date.now();
      server.child.stdin?.end();
      const exitedInTime = await Promise.race([
        server.exited.then((code) => ({ code })),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EXIT_WITHIN_MS)),
      ]);
      if (!exitedInTime) await server.stop('SIGKILL');
      expect(
        exitedInTime,
        `still running ${EXIT_WITHIN_MS} ms after stdin closed:\n${server.stderr().slice(-2000)}`,
      ).toBeDefined();
      expect(exitedInTime?.code, server.stderr().slice(-2000)).toBe(0);
      // For the report: how long the exit took with the collector down.
      console.info(`${kind}: exited ${Date.now() - closedAt} ms after stdin closed`);
      expect(server.stdout()).not.toContain('mcpscope');
    },
  );
});
