import { ERROR_TYPE_TIMEOUT } from './conventions.js';

// JSON-RPC and MCP SDK error codes the classification needs by name.
const REQUEST_TIMEOUT = -32001;
const CONNECTION_CLOSED = -32000;
const INTERNAL_ERROR = -32603;

export interface ErrorClassification {
  /** Value of `error.type`. */
  errorType: string;
  /** JSON-RPC code carried by the response, when there was one (`rpc.response.status_code`). */
  statusCode?: string;
  /** HTTP status of a transport failure, when the error carries one. */
  httpStatusCode?: number;
  /** The error's own message; callers redact it before recording. */
  message: string;
}

const errorName = (error: object): string => {
  const name = (error as { name?: unknown }).name;
  if (typeof name === 'string' && name !== '' && name !== 'Error') return name;
  const ctor = (error as { constructor?: { name?: string } }).constructor?.name;
  return ctor && ctor !== 'Object' ? ctor : 'Error';
};

/** A JSON-RPC error the peer answered: v1's `McpError`, v2's `ProtocolError`. */
const JSON_RPC_ERROR_NAMES = new Set(['McpError', 'ProtocolError']);
const isMcpError = (error: object): error is { code: number; message: string } =>
  JSON_RPC_ERROR_NAMES.has(errorName(error)) && Number.isSafeInteger((error as { code?: unknown }).code);

/** v2's local failures (`SdkError`) carry a string code; those that name a timeout or a closed connection. */
const SDK_ERROR_TYPES: Record<string, string> = {
  REQUEST_TIMEOUT: ERROR_TYPE_TIMEOUT,
  CONNECTION_CLOSED: 'connection_closed',
};

/**
 * Error raised by the sender's `request()`: a JSON-RPC error answered by the peer carries its code;
 * timeouts and closed connections are named; anything else (transport failures, 401s from the HTTP
 * transport, fetch errors) carries its class.
 */
export const classifyRequestError = (error: unknown): ErrorClassification => {
  if (error === null || typeof error !== 'object') {
    return { errorType: '_OTHER', message: typeof error === 'string' ? error : '' };
  }
  const message =
    typeof (error as { message?: unknown }).message === 'string' ? (error as Error).message : '';
  if (isMcpError(error)) {
    if (error.code === REQUEST_TIMEOUT) return { errorType: ERROR_TYPE_TIMEOUT, message };
    if (error.code === CONNECTION_CLOSED) return { errorType: 'connection_closed', message };
    return { errorType: String(error.code), statusCode: String(error.code), message };
  }
  const name = errorName(error);
  const sdkCode = (error as { code?: unknown }).code;
  if (typeof sdkCode === 'string' && SDK_ERROR_TYPES[sdkCode] !== undefined)
    return { errorType: SDK_ERROR_TYPES[sdkCode], message };
  // v2's HTTP transport failures carry the status in `data.status`.
  const dataStatus = (error as { data?: { status?: unknown } }).data?.status;
  if (name === 'SdkHttpError' && typeof dataStatus === 'number')
    return { errorType: name, message, httpStatusCode: dataStatus };
  if (name === 'AbortError' || name === 'TimeoutError') return { errorType: ERROR_TYPE_TIMEOUT, message };
  const code = (error as { code?: unknown }).code;
  const httpStatusCode =
    typeof code === 'number' && code >= 100 && code < 600 && /http/i.test(name) ? code : undefined;
  return { errorType: name, message, ...(httpStatusCode !== undefined && { httpStatusCode }) };
};

/**
 * Error thrown by a request handler: the SDK answers with the error's numeric code, or Internal
 * Error, so the span records the code the caller receives.
 */
export const classifyHandlerError = (error: unknown): ErrorClassification => {
  const code = (error as { code?: unknown } | null)?.code;
  const jsonRpcCode = typeof code === 'number' && Number.isSafeInteger(code) ? code : INTERNAL_ERROR;
  const message =
    typeof (error as { message?: unknown } | null)?.message === 'string' ? (error as Error).message : '';
  return { errorType: String(jsonRpcCode), statusCode: String(jsonRpcCode), message };
};
