import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OtlpLimits } from '../otlp/limits.js';
import type { CollectorRedaction } from '../redact/collector-redactor.js';
import {
  PreparerBusyError,
  type PreparedSpans,
  type SpanPreparer,
  type TraceRequestFormat,
} from './prepare-spans.js';
import { WORKER_READY, type PrepareAnswer, type PrepareJob } from './prepare-worker.js';

export interface PreparePoolOptions {
  redaction: CollectorRedaction;
  /** Worker threads; each prepares one request at a time. */
  size?: number;
  /**
   * Requests that may wait for a free worker (default 256 per worker); past it, `prepare` refuses
   * with {@link PreparerBusyError}. The work budget bounds their bytes; under overload, each is
   * refused without decoding when its turn comes (`beforeStart`) if the queue is full by then.
   */
  maxWaiting?: number;
}

const WAITING_PER_WORKER = 256;
/** Workers in a row that exit before they are ready, after which the pool stops replacing them. */
const MAX_FAILED_STARTS = 3;
const WORKERS_CANNOT_START = 'decoding workers cannot start';

interface Waiting {
  job: PrepareJob;
  beforeStart: (() => void) | undefined;
  resolve: (prepared: PreparedSpans) => void;
  reject: (error: unknown) => void;
}

interface PoolWorker {
  worker: Worker;
  busyWith: Waiting | undefined;
  stopped: boolean;
  /** Said it was ready: it started, so a later exit is replaced whatever happened before. */
  ready: boolean;
}

/**
 * A worker's heap is bounded, so its garbage is collected before it adds to the process's resident
 * memory (unbounded, V8 sizes it by the machine's memory and RSS under a flood passed 500 MiB). A
 * request's decoded spans stay far below it: the work budget bounds each at the decompressed cap.
 */
const WORKER_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 16 };

// From the built package the worker is plain JavaScript; from sources (tests, benches) it is
// TypeScript, loaded through tsx the way the tests and benches load everything else.
const startWorker = (workerData: CollectorRedaction): Worker => {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./prepare-worker.js', import.meta.url), {
      workerData,
      resourceLimits: WORKER_RESOURCE_LIMITS,
    });
  }
  // tsx's ESM entry, found through its package.json: `require.resolve` would give the CommonJS one.
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsx = new URL('dist/esm/api/index.mjs', pathToFileURL(tsxPackage)).href;
  const entry = new URL('./prepare-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits: WORKER_RESOURCE_LIMITS });
};

/**
 * Decoding and redaction in a small pool of worker threads, so the main thread stays free for
 * commits, health checks and the API while a large or slow request is worked on. Requests wait in
 * a bounded line for a free worker; a worker that dies fails its one request (retryable) and is
 * replaced, unless workers keep dying before they are ready: then every request is refused, retryably.
 */
export class PreparePool {
  readonly size: number;
  private readonly maxWaiting: number;
  private readonly redaction: CollectorRedaction;
  private readonly workers: PoolWorker[] = [];
  private readonly waiting: Waiting[] = [];
  private readonly onIdle: Array<() => void> = [];
  private nextId = 0;
  private closed = false;
  private failedStarts = 0;
  private broken = false;

  constructor({ redaction, size = 1, maxWaiting }: PreparePoolOptions) {
    this.size = Math.max(1, size);
    this.maxWaiting = maxWaiting ?? WAITING_PER_WORKER * this.size;
    this.redaction = redaction;
    for (let index = 0; index < this.size; index += 1) this.workers.push(this.spawn());
  }

  /** Requests waiting for a free worker. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  readonly prepare: SpanPreparer = (
    body: Uint8Array,
    format: TraceRequestFormat,
    limits: OtlpLimits,
    beforeStart?: () => void,
  ) => {
    if (this.closed) return Promise.reject(new PreparerBusyError('the collector is shutting down'));
    if (this.broken) return Promise.reject(new Error(WORKERS_CANNOT_START));
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new PreparerBusyError('every decoding worker is busy'));
    }
    return new Promise<PreparedSpans>((resolve, reject) => {
      this.nextId += 1;
      this.waiting.push({ job: { id: this.nextId, body, format, limits }, beforeStart, resolve, reject });
      this.dispatch();
    });
  };

  /**
   * Resolves once no request waits or is being prepared, and the last one's spans have been handed
   * on: on shutdown, requests in progress reach the ingest queue before it closes.
   */
  async settled(): Promise<void> {
    while (this.waiting.length > 0 || this.workers.some((pooled) => pooled.busyWith !== undefined)) {
      await new Promise<void>((resolve) => this.onIdle.push(resolve));
    }
    // The callers' continuations run before this one's: let them hand their spans on.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Fails what waits and stops the workers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.waiting.splice(0)) {
      waiting.reject(new PreparerBusyError('the collector is shutting down'));
    }
    await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
  }

  private spawn(): PoolWorker {
    const worker = startWorker(this.redaction);
    // An idle pool must not keep the process alive; requests in progress are awaited by their callers.
    worker.unref();
    const pooled: PoolWorker = { worker, busyWith: undefined, stopped: false, ready: false };
    worker.on('message', (message: PrepareAnswer | typeof WORKER_READY) => {
      if (message === WORKER_READY) {
        pooled.ready = true;
        this.failedStarts = 0;
        return;
      }
      const { id, prepared } = message;
      const current = pooled.busyWith;
      if (current === undefined || current.job.id !== id) return;
      pooled.busyWith = undefined;
      current.resolve(prepared);
      this.dispatch();
      for (const resolve of this.onIdle.splice(0)) resolve();
    });
    const failCurrent = (error: Error) => {
      const current = pooled.busyWith;
      pooled.busyWith = undefined;
      current?.reject(error);
      for (const resolve of this.onIdle.splice(0)) resolve();
    };
    worker.on('error', (error) => {
      pooled.stopped = true;
      failCurrent(error);
    });
    worker.on('exit', (code) => {
      pooled.stopped = true;
      failCurrent(new Error(`a decoding worker exited with code ${code}`));
      if (!pooled.ready) this.failedStarts += 1;
      if (this.failedStarts >= MAX_FAILED_STARTS) {
        // Replacing a worker that cannot start would only spin: refuse, retryably, until restarted.
        this.broken = true;
        for (const waiting of this.waiting.splice(0)) waiting.reject(new Error(WORKERS_CANNOT_START));
        return;
      }
      const index = this.workers.indexOf(pooled);
      if (index >= 0 && !this.closed) {
        this.workers[index] = this.spawn();
        this.dispatch();
      }
    });
    return pooled;
  }

  private dispatch(): void {
    for (const pooled of this.workers) {
      if (pooled.busyWith !== undefined || pooled.stopped) continue;
      const next = this.nextToStart();
      if (next === undefined) return;
      pooled.busyWith = next;
      pooled.worker.postMessage(next.job);
    }
  }

  /** The first waiting request its caller still wants started; the others are refused on the way. */
  private nextToStart(): Waiting | undefined {
    for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) {
      try {
        next.beforeStart?.();
        return next;
      } catch (error) {
        next.reject(error);
        for (const resolve of this.onIdle.splice(0)) resolve();
      }
    }
    return undefined;
  }
}
