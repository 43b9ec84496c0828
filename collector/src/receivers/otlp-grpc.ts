import * as grpc from '@grpc/grpc-js';
import { createAuthGate, gateRefusalMessage } from '../auth/auth-gate.js';
import { grpcClientAddress } from '../auth/client-address.js';
import { noopIngestObserver } from '../model/ingest-events.js';
import { encodeExportTraceResponse, encodeRpcStatus } from '../otlp/encode.js';
import { resolveOtlpLimits } from '../otlp/limits.js';
import { IngestOverloadedError } from '../model/span.js';
import { WorkBudget, type WorkReservation } from '../pipeline/work-budget.js';
import { busyOutcome, ingestContext, ingestTraceRequest, overloadedOutcome } from './ingest.js';
import type { OtlpReceiverOptions } from './types.js';

export interface OtlpGrpcOptions extends OtlpReceiverOptions {
  host: string;
  /** 0 picks a free port; the bound one is returned. */
  port: number;
  /** How long an admitted call may take to deliver its message before it is ended as UNAVAILABLE. */
  messageTimeoutMs?: number;
  /** How long a call may wait for room in the work budget before it is refused as UNAVAILABLE. */
  admissionWaitMs?: number;
}

export interface OtlpGrpcReceiver {
  port: number;
  close(): Promise<void>;
}

const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const CLOSE_GRACE_MS = 5_000;
const MESSAGE_TIMEOUT_MS = 10_000;
const ADMISSION_WAIT_MS = 2_000;

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
 *
 * Every call is authenticated and admitted from its metadata alone, before grpc-js reads its
 * message: grpc-js inflates a message whole as it arrives, so an admitted call holds the largest
 * message it may inflate to against the work budget until its message is in, then what it is.
 */
export async function startOtlpGrpcReceiver({
  host,
  port,
  sink,
  redactor,
  authenticator,
  authGate = authenticator && createAuthGate(authenticator),
  observer = noopIngestObserver,
  limits: partialLimits,
  onCommitted,
  prepare,
  workBudget = new WorkBudget(),
  messageTimeoutMs = MESSAGE_TIMEOUT_MS,
  admissionWaitMs = ADMISSION_WAIT_MS,
  maxFutureSkewMs,
}: OtlpGrpcOptions): Promise<OtlpGrpcReceiver> {
  const limits = resolveOtlpLimits(partialLimits);
  const ingest = ingestContext({ sink, redactor, observer, limits, onCommitted, prepare, maxFutureSkewMs });
  /** The producer identity of each admitted call, found by its metadata object as the reservation is. */
  const producers = new WeakMap<grpc.Metadata, string>();
  /** The admitted calls' reservations, found by the metadata object grpc-js hands to the handler. */
  const reservations = new WeakMap<grpc.Metadata, WorkReservation>();

  const authenticate = async (
    metadata: grpc.Metadata,
    peer: string,
  ): Promise<Partial<grpc.StatusObject> | undefined> => {
    if (!authGate) return undefined;
    const header = metadata.get('authorization')[0];
    const verdict = await authGate.check(
      typeof header === 'string' ? header : undefined,
      grpcClientAddress(peer),
    );
    if (verdict.ok) {
      if (verdict.producer !== undefined) producers.set(metadata, verdict.producer);
      return undefined;
    }
    if (verdict.status !== 401) {
      observer.rejected('grpc', verdict.reason);
      // Both waits are retryable: UNAVAILABLE with RetryInfo is retried by every OTLP exporter.
      return grpcError(grpc.status.UNAVAILABLE, gateRefusalMessage(verdict), verdict.retryAfterSeconds);
    }
    observer.authFailed('grpc', verdict.reason);
    observer.rejected('grpc', 'unauthenticated');
    return grpcError(grpc.status.UNAUTHENTICATED, gateRefusalMessage(verdict));
  };

  const busy = (outcome: { message: string; retryAfterSeconds: number }) => {
    observer.rejected('grpc', 'overloaded');
    return grpcError(grpc.status.UNAVAILABLE, outcome.message, outcome.retryAfterSeconds);
  };

  /** Auth, then room: a refused call is answered before a byte of its message is read or inflated. */
  const admit = async (
    path: string,
    metadata: grpc.Metadata,
    peer: string,
  ): Promise<{ refusal: Partial<grpc.StatusObject> } | { reservation: WorkReservation }> => {
    const denied = await authenticate(metadata, peer);
    if (denied) return { refusal: denied };
    if (path === TRACE_EXPORT) {
      try {
        sink.checkRoomFor?.(0);
      } catch (error) {
        if (!(error instanceof IngestOverloadedError)) throw error;
        return { refusal: busy(overloadedOutcome(error)) };
      }
    }
    const reservation = await workBudget.reserve(limits.maxDecompressedBytes, admissionWaitMs);
    return reservation ? { reservation } : { refusal: busy(busyOutcome()) };
  };

  const admission: grpc.ServerInterceptor = (method, call) => {
    let reservation: WorkReservation | undefined;
    let messageTimer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = () => {
      finished = true;
      clearTimeout(messageTimer);
      reservation?.release();
    };
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            admit(method.path, metadata, call.getPeer()).then(
              (admitted) => {
                if ('refusal' in admitted) return call.sendStatus(admitted.refusal as grpc.StatusObject);
                // The caller may have gone away while the call waited for room.
                if (finished) return admitted.reservation.release();
                reservation = admitted.reservation;
                reservations.set(metadata, reservation);
                // A sender that trickles its message would hold its reservation for as long as it likes.
                messageTimer = setTimeout(() => {
                  observer.rejected('grpc', 'overloaded');
                  call.sendStatus(
                    grpcError(
                      grpc.status.UNAVAILABLE,
                      'the request message took too long to arrive',
                      1,
                    ) as grpc.StatusObject,
                  );
                  finish();
                }, messageTimeoutMs);
                nextMetadata(metadata);
              },
              () =>
                call.sendStatus(
                  grpcError(
                    grpc.status.UNAVAILABLE,
                    'the collector could not admit the request',
                    1,
                  ) as grpc.StatusObject,
                ),
            );
          },
          onReceiveMessage(message: Buffer, nextMessage) {
            clearTimeout(messageTimer);
            // Inflated now: the call holds what it is, no longer what it might have been.
            reservation?.resize(message.byteLength);
            nextMessage(message);
          },
          onCancel: finish,
        });
      },
      sendStatus(status, next) {
        finish();
        next(status);
      },
    });
  };

  const exportTraces: UnaryHandler = (call, callback) => {
    void (async function exportTraces() {
      const outcome = await ingestTraceRequest(
        call.request,
        'protobuf',
        'grpc',
        ingest,
        reservations.get(call.metadata),
        producers.get(call.metadata),
      );
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

  // Admitted (authenticated) already; an empty message is a valid, fully successful Export*ServiceResponse.
  const ignoreExport: UnaryHandler = (_call, callback) => callback(null, new Uint8Array(0));

  const server = new grpc.Server({
    'grpc.max_receive_message_length': limits.maxDecompressedBytes,
    interceptors: [admission],
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
