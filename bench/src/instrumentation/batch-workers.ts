/**
 * Every variant's worker alive at once, warm and idle, each running one timed batch when told: the
 * batches of all variants alternate within seconds of each other, so load from other work on a
 * shared machine falls on every variant alike.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ArgumentsKind } from './call-fixture.js';
import { BATCH_PREFIX, READY_PREFIX, type BatchCommand } from './worker-protocol.js';

export interface BatchTiming {
  micros: number;
  /** The worker process's CPU time (user + system, every thread): what load from other work does not add to. */
  cpuMicros: number;
}

export interface BatchWorker {
  /** Runs `calls` calls of one argument size; resolves with wall and CPU µs per call. */
  batch(kind: ArgumentsKind, calls: number): Promise<BatchTiming>;
  stop(): Promise<void>;
}

export const startBatchWorker = (
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<BatchWorker> =>
  new Promise((resolve, reject) => {
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    const waiting: Array<(timing: BatchTiming) => void> = [];
    let ready = false;
    let exited = false;
    const failed = (why: string) => new Error(`${why}: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(READY_PREFIX) && !ready) {
        ready = true;
        resolve(worker);
      } else if (line.startsWith(BATCH_PREFIX)) {
        waiting.shift()?.(JSON.parse(line.slice(BATCH_PREFIX.length)) as BatchTiming);
      }
    });
    const send = (command: BatchCommand) => child.stdin.write(`${JSON.stringify(command)}\n`);
    const closed = new Promise<void>((done) =>
      child.on('close', (code) => {
        exited = true;
        if (!ready) reject(failed(`worker exited with ${code} before it was ready`));
        done();
      }),
    );
    child.on('error', reject);
    const worker: BatchWorker = {
      batch: (kind, calls) =>
        new Promise((done, fail) => {
          if (exited) return fail(failed('worker exited'));
          waiting.push(done);
          send({ kind, calls });
          void closed.then(() => fail(failed('worker exited during a batch')));
        }),
      stop: async () => {
        if (!exited) send({ kind: 'stop' });
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await closed;
        clearTimeout(timer);
      },
    };
  });
