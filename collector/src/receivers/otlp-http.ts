import { Hono, type Context } from 'hono';
import type { AuthReason } from '@mcpscope/instrumentation/conventions';
import { createAuthGate, gateRefusalMessage } from '../auth/auth-gate.js';
import { httpClientAddress } from '../auth/client-address.js';
import { wwwAuthenticate } from '../auth/require-auth.js';
import { noopIngestObserver, type IngestProtocol, type RejectionReason } from '../model/ingest-events.js';
import { encodeExportTraceResponse, encodeRpcStatus, GrpcCode, type OtlpFormat } from '../otlp/encode.js';
import { resolveOtlpLimits, type OtlpLimits } from '../otlp/limits.js';
import { IngestOverloadedError } from '../model/span.js';
import { WorkBudget } from '../pipeline/work-budget.js';
import { gunzipCapped, readBodyCapped, type HoldBytes } from './body.js';
import { busyOutcome, ingestContext, ingestTraceRequest, overloadedOutcome } from './ingest.js';
import type { OtlpReceiverOptions } from './types.js';

export type OtlpHttpOptions = OtlpReceiverOptions;

const PROTOBUF_TYPE = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

type Signal = 'traces' | 'metrics' | 'logs';
type ErrorStatus = 400 | 401 | 413 | 415 | 429 | 503;

const GRPC_CODE_BY_STATUS: Record<ErrorStatus, number> = {
  400: GrpcCode.INVALID_ARGUMENT,
  401: GrpcCode.UNAUTHENTICATED,
  413: GrpcCode.INVALID_ARGUMENT,
  415: GrpcCode.INVALID_ARGUMENT,
  429: GrpcCode.RESOURCE_EXHAUSTED,
  503: GrpcCode.UNAVAILABLE,
};

/** A copy on a plain ArrayBuffer, the body type web responses take (protobufjs may hand out pooled views). */
const ownBytes = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

function formatOf(contentType: string | undefined): OtlpFormat | undefined {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === PROTOBUF_TYPE) return 'protobuf';
  if (mediaType === JSON_TYPE) return 'json';
  return undefined;
}

/**
 * Errors in the request's own format, as OTLP/HTTP asks: a `google.rpc.Status` for protobuf
 * requests, `{ code, message }` JSON otherwise. Messages are fixed texts, never request content.
 */
function errorResponse(
  c: Context,
  format: OtlpFormat,
  status: ErrorStatus,
  code: RejectionReason | AuthReason,
  message: string,
  retryAfterSeconds?: number,
): Response {
  if (retryAfterSeconds !== undefined) c.header('Retry-After', String(retryAfterSeconds));
  if (format === 'protobuf') {
    return c.body(
      ownBytes(encodeRpcStatus(GRPC_CODE_BY_STATUS[status], message, retryAfterSeconds)),
      status,
      {
        'Content-Type': PROTOBUF_TYPE,
      },
    );
  }
  return c.json({ code, message }, status);
}

type RequestBody =
  | { ok: true; body: Uint8Array }
  | { ok: false; problem: 'corrupt' }
  | { ok: false; problem: 'busy' }
  | { ok: false; problem: 'too_large'; message: string };

/**
 * The body as sent, then inflated when gzip: `hold` is asked before the bytes held (compressed and
 * inflated together) grow, so a refusal stops reading or inflating at once.
 */
async function readRequestBody(
  stream: ReadableStream<Uint8Array> | null,
  gzip: boolean,
  limits: OtlpLimits,
  hold: HoldBytes,
): Promise<RequestBody> {
  const received = await readBodyCapped(stream, limits.maxBodyBytes, hold);
  if (!received.ok) {
    return received.problem === 'too_large'
      ? {
          ok: false,
          problem: 'too_large',
          message: `request body is larger than ${limits.maxBodyBytes} bytes`,
        }
      : { ok: false, problem: received.problem === 'busy' ? 'busy' : 'corrupt' };
  }
  let body = received.body;
  if (gzip) {
    const compressedBytes = body.byteLength;
    const inflated = await gunzipCapped(body, limits.maxDecompressedBytes, (total) =>
      hold(compressedBytes + total),
    );
    if (!inflated.ok) {
      return inflated.problem === 'too_large'
        ? {
            ok: false,
            problem: 'too_large',
            message: `decompressed body is larger than ${limits.maxDecompressedBytes} bytes`,
          }
        : { ok: false, problem: inflated.problem === 'busy' ? 'busy' : 'corrupt' };
    }
    body = inflated.body;
    // The compressed copy is garbage now: hold what is left.
    hold(body.byteLength);
  }
  if (body.byteLength > limits.maxDecompressedBytes) {
    return {
      ok: false,
      problem: 'too_large',
      message: `request body is larger than ${limits.maxDecompressedBytes} bytes`,
    };
  }
  return { ok: true, body };
}

/**
 * OTLP/HTTP: `POST /v1/traces` in protobuf or JSON, gzip or not. `/v1/metrics` and `/v1/logs` are
 * accepted and ignored with a valid empty answer (after auth and size checks), so an SDK configured
 * for all signals logs no export errors; mcpscope derives its metrics from spans.
 */
export function otlpHttpRoutes({
  sink,
  redactor,
  authenticator,
  authGate = authenticator && createAuthGate(authenticator),
  observer = noopIngestObserver,
  limits: partialLimits,
  onCommitted,
  prepare,
  workBudget = new WorkBudget(),
  maxFutureSkewMs,
}: OtlpHttpOptions): Hono {
  const limits = resolveOtlpLimits(partialLimits);
  const ingest = ingestContext({ sink, redactor, observer, limits, onCommitted, prepare, maxFutureSkewMs });

  const handleExport = (signal: Signal) =>
    async function otlpHttpExport(c: Context): Promise<Response> {
      const format = formatOf(c.req.header('content-type'));
      const protocol: IngestProtocol = format === 'protobuf' ? 'http_protobuf' : 'http_json';
      const answerFormat = format ?? 'json';
      const refuse = (status: ErrorStatus, reason: RejectionReason, message: string) => {
        observer.rejected(protocol, reason);
        return errorResponse(c, answerFormat, status, reason, message);
      };

      let producer: string | undefined;
      if (authGate) {
        const verdict = await authGate.check(c.req.header('authorization'), httpClientAddress(c));
        if (!verdict.ok) {
          const message = gateRefusalMessage(verdict);
          if (verdict.status !== 401) {
            const { status, reason, retryAfterSeconds } = verdict;
            observer.rejected(protocol, reason);
            return errorResponse(c, answerFormat, status, reason, message, retryAfterSeconds);
          }
          observer.authFailed(protocol, verdict.reason);
          observer.rejected(protocol, 'unauthenticated');
          c.header('WWW-Authenticate', wwwAuthenticate(verdict.reason));
          return errorResponse(c, answerFormat, 401, verdict.reason, message);
        }
        producer = verdict.producer;
      }

      if (format === undefined) {
        return refuse(415, 'unsupported_media_type', `Content-Type must be ${PROTOBUF_TYPE} or ${JSON_TYPE}`);
      }
      const encoding = c.req.header('content-encoding')?.trim().toLowerCase() || 'identity';
      if (encoding !== 'gzip' && encoding !== 'identity') {
        return refuse(415, 'unsupported_media_type', 'Content-Encoding must be gzip or identity');
      }

      const declaredLength = Number(c.req.header('content-length') ?? 0);
      if (declaredLength > limits.maxBodyBytes) {
        return refuse(413, 'too_large', `request body is larger than ${limits.maxBodyBytes} bytes`);
      }
      if (signal === 'traces') {
        // A full queue refuses before the body is read: Node discards the unread body cheaply,
        // while reading it into one buffer only to refuse it is what overload cannot afford.
        try {
          sink.checkRoomFor?.(Number.isFinite(declaredLength) ? declaredLength : 0);
        } catch (error) {
          if (!(error instanceof IngestOverloadedError)) throw error;
          const { reason, message, retryAfterSeconds } = overloadedOutcome(error);
          observer.rejected(protocol, reason);
          return errorResponse(c, format, 503, reason, message, retryAfterSeconds);
        }
      }
      // The body counts against the work budget from its first byte to the queue, inflated size
      // included: a refusal for want of room is retryable, and comes before the rest is read or inflated.
      const reservation = workBudget.tryReserve(0);
      const refuseBusy = () => {
        const { reason, message, retryAfterSeconds } = busyOutcome();
        observer.rejected(protocol, reason);
        return errorResponse(c, format, 503, reason, message, retryAfterSeconds);
      };
      if (reservation === undefined) return refuseBusy();
      try {
        const received = await readRequestBody(c.req.raw.body, encoding === 'gzip', limits, (total) =>
          reservation.resize(total),
        );
        if (!received.ok) {
          if (received.problem === 'busy') return refuseBusy();
          if (received.problem === 'corrupt') return refuse(400, 'malformed', 'body is not valid gzip');
          return refuse(413, 'too_large', received.message);
        }
        const body = received.body;

        if (signal !== 'traces') {
          return format === 'protobuf'
            ? c.body(new Uint8Array(0), 200, { 'Content-Type': PROTOBUF_TYPE })
            : c.json({}, 200);
        }

        const outcome = await ingestTraceRequest(body, format, protocol, ingest, reservation, producer);
        if (!outcome.ok) {
          if (outcome.reason === 'overloaded' || outcome.reason === 'storage_error') {
            return errorResponse(c, format, 503, outcome.reason, outcome.message, outcome.retryAfterSeconds);
          }
          return errorResponse(c, format, 400, outcome.reason, outcome.message);
        }
        return format === 'protobuf'
          ? c.body(ownBytes(encodeExportTraceResponse('protobuf', outcome.partialSuccess)), 200, {
              'Content-Type': PROTOBUF_TYPE,
            })
          : c.body(encodeExportTraceResponse('json', outcome.partialSuccess), 200, {
              'Content-Type': JSON_TYPE,
            });
      } finally {
        reservation.release();
      }
    };

  const app = new Hono();
  app.post('/v1/traces', handleExport('traces'));
  app.post('/v1/metrics', handleExport('metrics'));
  app.post('/v1/logs', handleExport('logs'));
  // OTLP/HTTP is POST only: any other method on these paths is told so, not "not found".
  app.on(['GET', 'PUT', 'PATCH', 'DELETE'], ['/v1/traces', '/v1/metrics', '/v1/logs'], (c) =>
    c.json({ code: 'method_not_allowed', message: 'OTLP/HTTP export takes POST' }, 405, { Allow: 'POST' }),
  );
  return app;
}
