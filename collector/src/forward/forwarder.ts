import { setTimeout as sleep } from 'node:timers/promises';
import type { SpanRecord } from '../model/span.js';
import { encodeTraceRequest } from '../otlp/encode.js';

export type ForwardDropReason = 'queue_full' | 'rejected' | 'retries_exhausted' | 'shutdown';

export interface ForwarderOptions {
  /** The downstream OTLP/HTTP traces URL; a bare origin gets `/v1/traces` appended. */
  endpoint: string;
  /** Sent with every request, e.g. `{ authorization: 'Bearer …' }`. Never logged. */
  headers?: Record<string, string>;
  protocol?: 'http/protobuf';
  /** Spans held while downstream is slow or down; beyond it new spans are dropped and counted. */
  maxQueuedSpans?: number;
  maxBatchSpans?: number;
  /** Attempts per batch before it is dropped. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
  /** Told about every drop; must be cheap and must not throw (e.g. a metric increment). */
  onDrop?: (spanCount: number, reason: ForwardDropReason) => void;
}

export interface ForwarderStats {
  forwardedSpans: number;
  droppedSpans: number;
  queuedSpans: number;
}

export interface Forwarder {
  /** Queues committed, redacted spans for downstream; returns at once and never throws. */
  forward(spans: readonly SpanRecord[]): void;
  /** Resolves once everything queued so far was delivered or dropped. */
  flush(): Promise<void>;
  /** Stops accepting, tries to deliver what is queued within `drainTimeoutMs`, drops the rest. */
  close(drainTimeoutMs?: number): Promise<void>;
  stats(): ForwarderStats;
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

const tracesUrl = (endpoint: string): string => {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.toString();
};

/** Seconds from a `Retry-After` header (delta form only), or undefined. */
const retryAfterMs = (header: string | null): number | undefined => {
  const seconds = header === null ? NaN : Number.parseInt(header, 10);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
};

/**
 * Sends the collector's redacted spans on to another OTLP backend (Tempo, Jaeger, an OpenTelemetry
 * Collector), so mcpscope can sit in front of existing tracing as a redaction gateway. One request
 * in flight, bounded retries with backoff, a bounded queue: a slow downstream costs dropped
 * (counted) forwards, never ingest latency or memory.
 */
export function createForwarder({
  endpoint,
  headers = {},
  maxQueuedSpans = 20_000,
  maxBatchSpans = 1_000,
  maxAttempts = 8,
  initialBackoffMs = 250,
  maxBackoffMs = 10_000,
  requestTimeoutMs = 10_000,
  onDrop = () => {},
}: ForwarderOptions): Forwarder {
  const url = tracesUrl(endpoint);
  const queue: SpanRecord[] = [];
  const stats: ForwarderStats = { forwardedSpans: 0, droppedSpans: 0, queuedSpans: 0 };
  const stopping = new AbortController();
  let closed = false;
  let pumping: Promise<void> | undefined;

  const drop = (spanCount: number, reason: ForwardDropReason) => {
    if (spanCount === 0) return;
    stats.droppedSpans += spanCount;
    try {
      onDrop(spanCount, reason);
    } catch {
      // A failing counter must not stop forwarding.
    }
  };

  type Attempt = { delivered: true } | { delivered: false; retryable: boolean; waitMs?: number };

  const send = async (body: Uint8Array): Promise<Attempt> => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-protobuf' },
        body,
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(requestTimeoutMs)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { delivered: true };
      const waitMs = retryAfterMs(response.headers.get('retry-after'));
      return {
        delivered: false,
        retryable: RETRYABLE_STATUSES.has(response.status),
        ...(waitMs !== undefined && { waitMs }),
      };
    } catch {
      // Refused connection, reset or timeout: downstream may come back.
      return { delivered: false, retryable: true };
    }
  };

  const deliver = async (batch: SpanRecord[]): Promise<void> => {
    const body = encodeTraceRequest(batch);
    let backoffMs = initialBackoffMs;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const result = await send(body);
      if (result.delivered) {
        stats.forwardedSpans += batch.length;
        return;
      }
      if (!result.retryable) return drop(batch.length, 'rejected');
      if (attempt === maxAttempts || stopping.signal.aborted) break;
      const waitMs = Math.min(result.waitMs ?? backoffMs, maxBackoffMs);
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
      try {
        await sleep(waitMs, undefined, { signal: stopping.signal });
      } catch {
        break;
      }
    }
    drop(batch.length, stopping.signal.aborted ? 'shutdown' : 'retries_exhausted');
  };

  const pump = async (): Promise<void> => {
    while (queue.length > 0 && !stopping.signal.aborted) {
      const batch = queue.splice(0, maxBatchSpans);
      stats.queuedSpans = queue.length;
      await deliver(batch);
    }
    pumping = undefined;
  };

  const ensurePumping = () => {
    pumping ??= pump();
  };

  const flush = async (): Promise<void> => {
    while (pumping) await pumping;
  };

  return {
    forward(spans) {
      if (spans.length === 0) return;
      if (closed) return drop(spans.length, 'shutdown');
      const room = maxQueuedSpans - queue.length;
      if (room < spans.length) {
        // Whole requests or nothing: keeps batches aligned with what exporters sent.
        return drop(spans.length, 'queue_full');
      }
      for (const span of spans) queue.push(span);
      stats.queuedSpans = queue.length;
      ensurePumping();
    },
    flush,
    async close(drainTimeoutMs = 5_000) {
      closed = true;
      const drained = flush();
      const timer = sleep(drainTimeoutMs, undefined, { ref: false }).then(() => stopping.abort());
      await Promise.race([drained, timer]);
      stopping.abort();
      await flush();
      drop(queue.splice(0).length, 'shutdown');
      stats.queuedSpans = 0;
    },
    stats: () => ({ ...stats }),
  };
}
