import { spawn } from 'node:child_process';

export interface ChildOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Runs a command to completion, collecting its output; never rejects on a non-zero exit. */
export const runChild = (
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ChildOutcome> =>
  new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsedMs: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });

/** The last meaningful line of a failed child's stderr, for a table cell. */
export const failureSummary = (outcome: ChildOutcome): string => {
  const lines = outcome.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('at ') && !line.startsWith('Node.js v'));
  const errorLine =
    lines.find((line) => /Error|error:/.test(line)) ?? lines.at(-1) ?? `exit code ${outcome.code}`;
  return errorLine.length > 200 ? `${errorLine.slice(0, 200)}…` : errorLine;
};
