/**
 * Why an OTLP/gRPC export failed, in one line a person can act on: what went wrong at the endpoint and
 * what to check. Never the error's stack or its full text (gRPC's details run to several lines).
 */

/** Where the default collector listens, for hints. */
const COLLECTOR_GRPC_PORT = '4317';
const COLLECTOR_HTTP_PORT = '4318';

const GRPC_STATUS_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

const portOf = (endpoint: string): string | undefined => {
  try {
    const url = new URL(endpoint);
    return url.port || (url.protocol === 'https:' ? '443' : '80');
  } catch {
    return undefined;
  }
};

/** `reason; hint` for a failed export to `endpoint`. */
export const explainExportFailure = (endpoint: string, error: unknown): string => {
  const { code, details, message } = (error ?? {}) as {
    code?: unknown;
    details?: unknown;
    message?: unknown;
  };
  const text = `${typeof details === 'string' ? details : ''} ${typeof message === 'string' ? message : ''}`;
  if (/ECONNREFUSED/.test(text)) {
    return 'nothing listens there; is the collector running (`npx mcpscope collector`), and does OTEL_EXPORTER_OTLP_ENDPOINT name its gRPC port?';
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) {
    return 'the host name does not resolve; check OTEL_EXPORTER_OTLP_ENDPOINT';
  }
  if (/Protocol error/i.test(text)) {
    const hint =
      portOf(endpoint) === COLLECTOR_HTTP_PORT
        ? ` ${COLLECTOR_HTTP_PORT} is the collector's OTLP/HTTP port: use its gRPC port (${COLLECTOR_GRPC_PORT} by default), or set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`
        : " is this the collector's gRPC port? For an OTLP/HTTP endpoint set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf";
    return `something answered that does not speak OTLP/gRPC;${hint}`;
  }
  if (/wrong version number|SSL routines|TLS/i.test(text)) {
    return 'the TLS handshake failed; a collector without TLS takes an http:// endpoint';
  }
  const status = typeof code === 'number' ? GRPC_STATUS_NAMES[code] : undefined;
  if (status === 'DEADLINE_EXCEEDED') {
    return 'no answer within the export timeout; is this an OTLP/gRPC endpoint? (OTEL_EXPORTER_OTLP_TIMEOUT)';
  }
  if (status === 'UNAUTHENTICATED' || status === 'PERMISSION_DENIED') {
    return `the collector refused the credentials (${status}); check OTEL_EXPORTER_OTLP_HEADERS`;
  }
  if (status === 'RESOURCE_EXHAUSTED') return 'the collector is overloaded (RESOURCE_EXHAUSTED)';
  if (status === 'UNIMPLEMENTED') {
    return 'the endpoint has no OTLP trace service (UNIMPLEMENTED); is it an OpenTelemetry collector?';
  }
  const firstLine = (typeof details === 'string' && details !== '' ? details : String(message ?? error))
    .split('\n')[0]
    ?.replace(/\s*Resolution note:\s*$/, '')
    .slice(0, 160);
  return status ? `${status}: ${firstLine}` : (firstLine ?? 'unknown error');
};
