import { fileURLToPath } from 'node:url';
import { eventually, freePort, startProcess, type RunningProcess } from '../support/processes.js';

const repoFile = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
export const COLLECTOR_CLI = repoFile('collector/dist/cli.js');
export const DEMO_AGENT = repoFile('examples/src/demo-agent.mjs');

export interface CollectorProcess {
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

/** The collector as a user runs it: the built CLI, in its own process, on fixed loopback ports. */
export const startCollectorProcess = async ({
  dbPath,
  extraArgs = [],
}: {
  dbPath: string;
  extraArgs?: string[];
}): Promise<CollectorProcess> => {
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const args = [
    COLLECTOR_CLI,
    'collector',
    '--grpc-port',
    String(grpcPort),
    '--http-port',
    String(httpPort),
    '--db-path',
    dbPath,
    '--task-settle-seconds',
    '2',
    ...extraArgs,
  ];
  const previousLogs: string[] = [];
  const launch = async () => {
    const child = startProcess(process.execPath, args, { env: { ...process.env } });
    await child.waitFor(/collector listening/, 60_000);
    return child;
  };
  let current = await launch();
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const getText = async (path: string) => {
    const response = await fetch(`${httpUrl}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.text();
  };
  return {
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
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
      current = await launch();
      await eventually(async () => ((await fetch(`${httpUrl}/readyz`)).ok ? true : undefined), {
        what: 'the restarted collector to be ready',
      });
    },
    async stop() {
      await current.stop('SIGTERM');
    },
  };
};

export interface ApiTask {
  taskId: string;
  traceIds: string[];
  outcome: 'success' | 'recovered' | 'failed';
  startTime: string;
  durationMs: number;
  services: string[];
  toolCalls: number;
  failedCalls: number;
  retries: number;
  inputTokens: number;
  outputTokens: number;
  authFailures: number;
  feedback: unknown;
}
