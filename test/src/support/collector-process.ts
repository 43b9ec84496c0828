import { fileURLToPath } from 'node:url';
import { startProcess, type RunningProcess } from './processes.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The built CLI, as users run it (`npm test` builds first); it starts in about half the time of the sources under tsx. */
const cliEntry = fileURLToPath(new URL('../../../collector/dist/cli.js', import.meta.url));

export interface CollectorProcessOptions {
  httpPort: number;
  grpcPort: number;
  dbPath: string;
  /** Extra `MCPSCOPE_*` settings. */
  env?: Record<string, string>;
  extraArgs?: string[];
  /** How long start-up may take before the test gives up. */
  readyTimeoutMs?: number;
}

export interface CollectorProcess {
  process: RunningProcess;
  url: string;
  grpcUrl: string;
}

/** The real `mcpscope collector` command, resolved once it prints where it listens. */
export const startCollectorProcess = async ({
  httpPort,
  grpcPort,
  dbPath,
  env = {},
  extraArgs = [],
  readyTimeoutMs = 30_000,
}: CollectorProcessOptions): Promise<CollectorProcess> => {
  const running = startProcess(
    process.execPath,
    [
      cliEntry,
      'collector',
      '--http-port',
      String(httpPort),
      '--grpc-port',
      String(grpcPort),
      '--db-path',
      dbPath,
      ...extraArgs,
    ],
    { cwd: repoRoot, env: { ...process.env, ...env } },
  );
  await running.waitFor(/OTEL_EXPORTER_OTLP_ENDPOINT=/, readyTimeoutMs);
  return { process: running, url: `http://127.0.0.1:${httpPort}`, grpcUrl: `http://127.0.0.1:${grpcPort}` };
};
