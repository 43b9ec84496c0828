import * as grpc from '@grpc/grpc-js';
import { authFailureMessage } from '../auth/require-auth.js';
import { noopIngestObserver } from '../model/ingest-events.js';
import { encodeExportTraceResponse, encodeRpcStatus } from '../otlp/encode.js';
import { resolveOtlpLimits } from '../otlp/limits.js';
import { ingestTraceRequest, type IngestContext } from './ingest.js';
import type { OtlpReceiverOptions } from './types.js';

export interface OtlpGrpcOptions extends OtlpReceiverOptions {
  host: string;
  /** 0 picks a free port; the bound one is returned. */
  port: number;
}

export interface OtlpGrpcReceiver {
  port: number;
  close(): Promise<void>;
}

const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const CLOSE_GRACE_MS = 5_000;

/** Messages pass through grpc-js as bytes: decoding happens in the handler, where failures map to OTLP statuses. */
const rawUnaryMethod = (path: string): grpc.MethodDefinition<Buffer, Uint8Array> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: (request: Buffer) => request,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (response: Uint8Array) =>
    Buffer.from(response.buffer, response.byteOffset, response.byteLength),
  responseDeserialize: (bytes: Buffer) => bytes,
});

type UnaryHandler = grpc.handleUnaryCall<Buffer, Uint8Array>;

const grpcError = (
  code: grpc.status,
  details: string,
  retryAfterSeconds?: number,
): Partial<grpc.StatusObject> => {
  const metadata = new grpc.Metadata();
  if (retryAfterSeconds !== undefined) {
    // RetryInfo in the status details is how OTLP/gRPC tells an exporter when to come back.
    metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(code, details, retryAfterSeconds)));
  }
  return { code, details, metadata };
};

/**
 * OTLP/gRPC: `TraceService/Export`, plus the metrics and logs services accepted and ignored (mcpscope
 * derives its metrics from spans). gzip-compressed messages are accepted; the largest message is
 * `maxDecompressedBytes` after decompression. Plaintext: put TLS in front or keep it on loopback.
 */
export async function startOtlpGrpcReceiver({
  host,
  port,
  sink,
  redactor,
  authenticator,
  observer = noopIngestObserver,
  limits: partialLimits,
  onCommitted,
}: OtlpGrpcOptions): Promise<OtlpGrpcReceiver> {
  const limits = resolveOtlpLimits(partialLimits);
  const ingest: IngestContext = { sink, redactor, observer, limits, ...(onCommitted && { onCommitted }) };

  const authenticate = async (metadata: grpc.Metadata): Promise<Partial<grpc.StatusObject> | undefined> => {
    if (!authenticator?.isEnabled) return undefined;
    const header = metadata.get('authorization')[0];
    const auth = await authenticator.authenticate(typeof header === 'string' ? header : undefined);
    if (auth.ok) return undefined;
    observer.authFailed('grpc', auth.reason);
    observer.rejected('grpc', 'unauthenticated');
    return grpcError(grpc.status.UNAUTHENTICATED, authFailureMessage(auth.reason));
  };

  const exportTraces: UnaryHandler = (call, callback) => {
    void (async function exportTraces() {
      const denied = await authenticate(call.metadata);
      if (denied) return callback(denied);
      const outcome = await ingestTraceRequest(call.request, 'protobuf', 'grpc', ingest);
      if (outcome.ok) return callback(null, encodeExportTraceResponse('protobuf', outcome.partialSuccess));
      if (outcome.reason === 'overloaded' || outcome.reason === 'storage_error') {
        // UNAVAILABLE is retried by every OTLP exporter; RESOURCE_EXHAUSTED only by some.
        return callback(grpcError(grpc.status.UNAVAILABLE, outcome.message, outcome.retryAfterSeconds));
      }
      return callback(grpcError(grpc.status.INVALID_ARGUMENT, outcome.message));
    })().catch(() =>
      callback(grpcError(grpc.status.UNAVAILABLE, 'the collector failed to process the request')),
    );
  };

  const ignoreExport: UnaryHandler = (call, callback) => {
    void (async function ignoreExport() {
      const denied = await authenticate(call.metadata);
      // An empty message is a valid, fully successful Export*ServiceResponse.
      callback(denied ?? null, denied ? undefined : new Uint8Array(0));
    })();
  };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': limits.maxDecompressedBytes,
  });
  server.addService({ Export: rawUnaryMethod(TRACE_EXPORT) }, { Export: exportTraces });
  server.addService({ Export: rawUnaryMethod(METRICS_EXPORT) }, { Export: ignoreExport });
  server.addService({ Export: rawUnaryMethod(LOGS_EXPORT) }, { Export: ignoreExport });

  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  return {
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), CLOSE_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
