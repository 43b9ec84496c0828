import { parentPort, workerData } from 'node:worker_threads';
import type { OtlpLimits } from '../otlp/limits.js';
import { collectorRedactor, type CollectorRedaction } from '../redact/collector-redactor.js';
import { prepareSpans, type PreparedSpans, type TraceRequestFormat } from './prepare-spans.js';

/** One request for a worker, as the pool posts it. */
export interface PrepareJob {
  id: number;
  body: Uint8Array;
  format: TraceRequestFormat;
  limits: OtlpLimits;
}

export interface PrepareAnswer {
  id: number;
  prepared: PreparedSpans;
}

/** Sent once the worker's redactor is built: a worker that exits before it did could not start. */
export const WORKER_READY = 'ready';

// A worker thread of the prepare pool: it builds the same redactor as the main thread from the
// same settings, and answers each job with plain data.
if (parentPort !== null) {
  const port = parentPort;
  const redactor = collectorRedactor(workerData as CollectorRedaction);
  port.on('message', function prepareJob({ id, body, format, limits }: PrepareJob) {
    let prepared: PreparedSpans;
    try {
      prepared = prepareSpans(body, format, limits, redactor);
    } catch {
      prepared = { ok: false, stage: 'redact' };
    }
    port.postMessage({ id, prepared } satisfies PrepareAnswer);
  });
  port.postMessage(WORKER_READY);
}
