import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A long-running child (a collector, a baseline server) that announces itself with `READY {json}`. */
export interface ServiceProcess<Info> {
  info: Info;
  pid: number;
  /** Resident set size in bytes, read from /proc. */
  rssBytes(): number;
  stderrTail(): string;
  /** Sends a signal (e.g. SIGUSR2 to start profiling). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; `graceMs: 0` kills at once. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

export const startServiceProcess = <Info>(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number },
): Promise<ServiceProcess<Info>> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`not ready within ${options.readyTimeoutMs ?? 60_000} ms: ${stderr.slice(-500)}`));
    }, options.readyTimeoutMs ?? 60_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    child.on('exit', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready: ${stderr.slice(-800)}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (settled) return;
      stdout += chunk;
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('READY '));
      if (!line) return;
      settled = true;
      clearTimeout(timer);
      const pid = child.pid!;
      resolve({
        info: JSON.parse(line.slice('READY '.length)) as Info,
        pid,
        rssBytes: () => {
          try {
            const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
            return match ? Number(match[1]) * 1024 : Number.NaN;
          } catch {
            return Number.NaN;
          }
        },
        stderrTail: () => stderr.slice(-2000),
        signal: (signal) => child.kill(signal),
        stop: ({ graceMs = 15_000 } = {}) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            child.once('exit', () => {
              clearTimeout(killer);
              done();
            });
            child.kill(graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
          }),
      });
    });
  });

/** Samples a value every `intervalMs` until stopped; returns the samples. */
export const sampleEvery = (intervalMs: number, read: () => number) => {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(read()), intervalMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      samples.push(read());
      return samples.filter(Number.isFinite);
    },
  };
};
