import { fileURLToPath } from 'node:url';
import { startCollectorProcess } from '../support/collector-process.js';
import { eventually, freePort, type RunningProcess } from '../support/processes.js';

export type { TaskSummary as ApiTask } from '@mcpscope/collector';

const repoFile = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
export const DEMO_AGENT = repoFile('examples/src/demo-agent.mjs');

export interface RestartableCollector {
  grpcEndpoint: string;
  httpUrl: string;
  dbPath: string;
  process: RunningProcess;
  /** Every line the collector wrote, across restarts. */
  logs(): string;
  get<T>(path: string): Promise<T>;
  getText(path: string): Promise<string>;
  /** kill -9, then start again on the same ports and file. */
  crashAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

/** The collector CLI on fixed loopback ports, so it can be killed and restarted where exporters expect it. */
export const startRestartableCollector = async ({
  dbPath,
  extraArgs = [],
}: {
  dbPath: string;
  extraArgs?: string[];
}): Promise<RestartableCollector> => {
  const options = {
    grpcPort: await freePort(),
    httpPort: await freePort(),
    dbPath,
    extraArgs: ['--task-settle-seconds', '2', ...extraArgs],
    readyTimeoutMs: 60_000,
  };
  const previousLogs: string[] = [];
  let current = (await startCollectorProcess(options)).process;
  const httpUrl = `http://127.0.0.1:${options.httpPort}`;
  const getText = async (path: string) => {
    const response = await fetch(`${httpUrl}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.text();
  };
  return {
    grpcEndpoint: `http://127.0.0.1:${options.grpcPort}`,
    httpUrl,
    dbPath,
    get process() {
      return current;
    },
    logs: () => [...previousLogs, current.output()].join('\n'),
    getText,
    get: async <T>(path: string) => JSON.parse(await getText(path)) as T,
    async crashAndRestart() {
      current.child.kill('SIGKILL');
      await current.exited;
      previousLogs.push(current.output());
      current = (await startCollectorProcess(options)).process;
      await eventually(async () => ((await fetch(`${httpUrl}/readyz`)).ok ? true : undefined), {
        what: 'the restarted collector to be ready',
      });
    },
    async stop() {
      await current.stop('SIGTERM');
    },
  };
};
