import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const exampleScript = (name: string): string => fileURLToPath(new URL(`../${name}`, import.meta.url));

/** No collector in these tests: the instrumentation runs, its exports go nowhere (a closed port). */
export const testEnv = (overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
  OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
  ...overrides,
});

export interface HttpServerProcess {
  child: ChildProcess;
  url: URL;
  stderr: () => string;
  stop: () => Promise<void>;
}

const listeningUrl = (line: string): unknown => {
  try {
    return (JSON.parse(line) as { listening?: unknown }).listening;
  } catch {
    return undefined;
  }
};

/** Starts an example server with `--http --port 0` and resolves once it printed its URL. */
export const startHttpServer = (script: string, extraArgs: string[] = []): Promise<HttpServerProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [exampleScript(script), '--http', '--port', '0', ...extraArgs], {
      env: testEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    };
    const onEarlyExit = (code: number | null) =>
      reject(new Error(`${script} exited (${code}) before listening:\n${stderr}`));
    child.once('exit', onEarlyExit);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr += `${line}\n`;
      const listening = listeningUrl(line);
      if (typeof listening === 'string') {
        child.off('exit', onEarlyExit);
        resolve({ child, url: new URL(listening), stderr: () => stderr, stop });
      }
    });
  });

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script to completion and collects its output; past `timeoutMs` it is interrupted. */
export const runScript = async (
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<RunResult> => {
  const child = spawn(process.execPath, [exampleScript(script), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
};
