/**
 * Concurrent OTLP exporters as the OpenTelemetry SDK behaves: each sends one request, waits for the
 * answer, and on a retryable answer (HTTP 429/502/503/504, gRPC UNAVAILABLE/RESOURCE_EXHAUSTED)
 * backs off and sends again. Only acknowledged spans count as ingested.
 */
import { Agent, request as httpRequest } from 'node:http';
import { credentials, Client as GrpcClient, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { PayloadSource } from './payloads.js';

export type OtlpProtocol = 'grpc' | 'http';

export interface ExportTarget {
  protocol: OtlpProtocol;
  /** `127.0.0.1:port` of the gRPC receiver or the HTTP server. */
  address: string;
}

export interface LoadOptions {
  target: ExportTarget;
  concurrency: number;
  durationMs: number;
  /** Not counted: lets connections, JIT and the queue settle. */
  warmupMs: number;
  source: PayloadSource;
  /** Backoff after a retryable answer; exporters use ~1 s, overload tests less to keep the pressure on. */
  retryDelayMs?: number;
  /** How long to wait for answers still in flight when the window closes before abandoning them. */
  drainMs?: number;
}

export interface LoadResult {
  ackedSpans: number;
  ackedRequests: number;
  /** Answers that asked the exporter to retry (503 / RESOURCE_EXHAUSTED / UNAVAILABLE / 429). */
  retryableAnswers: number;
  /** Anything else that was not a success: the data would be lost. */
  failures: number;
  failureSamples: string[];
  seconds: number;
  spansPerSecond: number;
  /** Request round trips in ms, for acknowledged requests in the measured window. */
  latenciesMs: number[];
}

type Outcome = { kind: 'ok' } | { kind: 'retry' } | { kind: 'failed'; detail: string };
type Sender = (body: Buffer) => Promise<Outcome>;

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

const grpcSenders = (address: string, count: number): { senders: Sender[]; close: () => void } => {
  // One channel per exporter, as separate exporter processes would have (up to 16; more multiplex).
  const clients = Array.from(
    { length: Math.min(count, 16) },
    () =>
      new GrpcClient(address, credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.max_send_message_length': 16 * 1024 * 1024,
      }),
  );
  const senders = Array.from({ length: count }, (_, index) => clients[index % clients.length]!).map(
    (client): Sender =>
      (body) =>
        new Promise((resolve) => {
          client.makeUnaryRequest(
            EXPORT_PATH,
            (value: Buffer) => value,
            (value: Buffer) => value,
            body,
            { deadline: Date.now() + 30_000 },
            (error: ServiceError | null) => {
              if (!error) resolve({ kind: 'ok' });
              else if (error.code === GrpcStatus.RESOURCE_EXHAUSTED || error.code === GrpcStatus.UNAVAILABLE)
                resolve({ kind: 'retry' });
              else resolve({ kind: 'failed', detail: `gRPC ${error.code} ${error.details}` });
            },
          );
        }),
  );
  return { senders, close: () => clients.forEach((client) => client.close()) };
};

const httpSenders = (address: string, count: number): { senders: Sender[]; close: () => void } => {
  const [host, port] = address.split(':');
  const agent = new Agent({ keepAlive: true, maxSockets: count });
  const send: Sender = (body) =>
    new Promise((resolve) => {
      const req = httpRequest(
        {
          host,
          port: Number(port),
          path: '/v1/traces',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          let text = '';
          res.setEncoding('latin1');
          res.on('data', (chunk: string) => {
            if (text.length < 200) text += chunk;
          });
          res.on('end', () => {
            if (status >= 200 && status < 300) resolve({ kind: 'ok' });
            else if (RETRYABLE_HTTP.has(status)) resolve({ kind: 'retry' });
            else
              resolve({
                kind: 'failed',
                detail: `HTTP ${status} ${text.replace(/[^\x20-\x7e]/g, '').slice(0, 120)}`,
              });
          });
        },
      );
      req.on('error', (error) => resolve({ kind: 'failed', detail: error.message }));
      req.end(body);
    });
  return { senders: Array.from({ length: count }, () => send), close: () => agent.destroy() };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const runLoad = async (options: LoadOptions): Promise<LoadResult> => {
  const {
    target,
    concurrency,
    durationMs,
    warmupMs,
    source,
    retryDelayMs = 1000,
    drainMs = 30_000,
  } = options;
  const { senders, close } =
    target.protocol === 'grpc'
      ? grpcSenders(target.address, concurrency)
      : httpSenders(target.address, concurrency);
  const started = performance.now();
  const measureFrom = started + warmupMs;
  const stopAt = measureFrom + durationMs;
  const result: LoadResult = {
    ackedSpans: 0,
    ackedRequests: 0,
    retryableAnswers: 0,
    failures: 0,
    failureSamples: [],
    seconds: durationMs / 1000,
    spansPerSecond: 0,
    latenciesMs: [],
  };
  let finished = false;
  const exporter = async (send: Sender) => {
    let pending: { body: Buffer; spanCount: number } | undefined;
    while (performance.now() < stopAt && !finished) {
      pending ??= source.take();
      const sentAt = performance.now();
      const outcome = await send(pending.body);
      const answeredAt = performance.now();
      if (finished) return;
      // Throughput counts acknowledgements inside the window, whenever their request left.
      const measured = answeredAt >= measureFrom && answeredAt <= stopAt;
      if (outcome.kind === 'ok') {
        if (measured) {
          result.ackedSpans += pending.spanCount;
          result.ackedRequests += 1;
          result.latenciesMs.push(answeredAt - sentAt);
        }
        pending = undefined;
      } else if (outcome.kind === 'retry') {
        if (answeredAt >= measureFrom) result.retryableAnswers += 1;
        await sleep(retryDelayMs);
      } else {
        result.failures += 1;
        if (result.failureSamples.length < 3) result.failureSamples.push(outcome.detail);
        pending = undefined;
        await sleep(100);
      }
    }
  };
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(senders.map(exporter)),
    new Promise((resolve) => (drainTimer = setTimeout(resolve, warmupMs + durationMs + drainMs))),
  ]);
  clearTimeout(drainTimer);
  finished = true;
  close();
  result.spansPerSecond = result.ackedSpans / (durationMs / 1000);
  return result;
};
