import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ServerResponse } from 'node:http';
import {
  context,
  diag,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MCPSCOPE_AUTH_OUTCOME,
  ATTR_MCPSCOPE_AUTH_REASON,
  ATTR_MCPSCOPE_AUTH_SIDE,
  ATTR_MCPSCOPE_TASK_ID,
  AUTH_REASONS,
  AUTH_SPAN_NAME,
  BAGGAGE_MCPSCOPE_TASK_ID,
  type AuthReason,
} from './conventions.js';
import type { AuthEvent } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

const MAX_CHALLENGE_LENGTH = 1024;

/**
 * Records an authentication or authorization event as a span named `mcpscope.auth`, in the current
 * trace when there is one. For custom auth layers; the instrumentation calls it for the HTTP
 * challenges it observes. Never throws.
 */
export const recordAuthEvent = (event: AuthEvent, parent: Context = context.active()): void => {
  try {
    const outcome = event.outcome ?? 'failure';
    const reason: AuthReason = (AUTH_REASONS as readonly string[]).includes(event.reason)
      ? event.reason
      : 'other';
    const side = event.side ?? 'server';
    const span = trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION).startSpan(
      AUTH_SPAN_NAME,
      {
        kind: side === 'server' ? SpanKind.SERVER : SpanKind.CLIENT,
        attributes: {
          [ATTR_MCPSCOPE_AUTH_OUTCOME]: outcome,
          [ATTR_MCPSCOPE_AUTH_REASON]: reason,
          [ATTR_MCPSCOPE_AUTH_SIDE]: side,
          ...(event.httpStatusCode !== undefined && {
            [ATTR_HTTP_RESPONSE_STATUS_CODE]: event.httpStatusCode,
          }),
        },
      },
      parent,
    );
    const taskId = propagation.getBaggage(parent)?.getEntry(BAGGAGE_MCPSCOPE_TASK_ID)?.value;
    if (taskId !== undefined) span.setAttribute(ATTR_MCPSCOPE_TASK_ID, taskId);
    if (outcome === 'failure') {
      span.setAttribute(ATTR_ERROR_TYPE, reason);
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    }
    span.end();
  } catch (error) {
    diag.error('mcpscope: could not record an auth event', error);
  }
};

/** Shorthand for a failed authentication: `recordAuthFailure({ reason: 'expired_token' })`. */
export const recordAuthFailure = (event: Omit<AuthEvent, 'outcome'>, parent?: Context): void =>
  recordAuthEvent({ ...event, outcome: 'failure' }, parent);

/**
 * Maps an RFC 6750 challenge to the documented reasons. The SDK's bearer-auth middleware answers
 * `invalid_token` with a description for missing, malformed and expired tokens, and
 * `insufficient_scope` with 403.
 */
export const reasonFromChallenge = (status: number, challenge: string): AuthReason => {
  const header = challenge.slice(0, MAX_CHALLENGE_LENGTH);
  const error = /\berror="([^"]{0,64})"/.exec(header)?.[1];
  const description = /\berror_description="([^"]{0,256})"/.exec(header)?.[1] ?? '';
  if (error === 'insufficient_scope' || status === 403) return 'insufficient_scope';
  if (/expired/i.test(description)) return 'expired_token';
  if (error === undefined || /missing|no token|not provided/i.test(description)) return 'missing_token';
  if (error === 'invalid_token' || error === 'invalid_request') return 'invalid_token';
  return 'unauthorized';
};

const isBearerChallenge = (value: unknown): value is string =>
  typeof value === 'string' && /^\s*bearer\b/i.test(value);

type WriteHead = ServerResponse['writeHead'];
const ORIGINAL_WRITE_HEAD = Symbol.for('mcpscope.http.writeHead');

const challengeFromArgs = (response: ServerResponse, args: unknown[]): unknown => {
  const fromSet = response.getHeader('www-authenticate');
  if (fromSet !== undefined) return Array.isArray(fromSet) ? fromSet[0] : fromSet;
  const headers = args.find((arg) => arg !== null && typeof arg === 'object') as
    Record<string, unknown> | unknown[] | undefined;
  if (!headers) return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === 'www-authenticate') return String(headers[i + 1]);
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === 'www-authenticate') return value;
  }
  return undefined;
};

/** Server side: every 401/403 this process answers with a Bearer challenge becomes an auth span. */
const observeServerChallenges = (): (() => void) => {
  const proto = ServerResponse.prototype as ServerResponse & { [ORIGINAL_WRITE_HEAD]?: WriteHead };
  if (proto[ORIGINAL_WRITE_HEAD]) return () => {};
  const original = proto.writeHead;
  proto[ORIGINAL_WRITE_HEAD] = original;
  proto.writeHead = function writeHead(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    if (statusCode === 401 || statusCode === 403) {
      try {
        const challenge = challengeFromArgs(this, rest);
        if (isBearerChallenge(challenge)) {
          recordAuthEvent({
            reason: reasonFromChallenge(statusCode, challenge),
            side: 'server',
            httpStatusCode: statusCode,
          });
        }
      } catch (error) {
        diag.error('mcpscope: could not observe an auth challenge', error);
      }
    }
    return (original as (...args: unknown[]) => ServerResponse).call(this, statusCode, ...rest);
  } as WriteHead;
  return () => {
    proto.writeHead = original;
    delete proto[ORIGINAL_WRITE_HEAD];
  };
};

interface UndiciRequest {
  body?: unknown;
}
interface UndiciResponse {
  statusCode: number;
  headers: Array<Buffer | string>;
}
interface TrackedRequest {
  context: Context;
  refresh: boolean;
}

const headerValue = (headers: Array<Buffer | string>, name: string): string | undefined => {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
  }
  return undefined;
};

/**
 * Client side, through the `fetch` diagnostics channels (no patching): a 401/403 with a Bearer
 * challenge is a client auth failure; a `refresh_token` grant is a refresh, successful or not. The
 * request body is only tested for the grant type, never kept.
 */
const observeClientChallenges = (): (() => void) => {
  const tracked = new WeakMap<object, TrackedRequest>();
  const onCreate = (message: unknown) => {
    const request = (message as { request?: UndiciRequest }).request;
    if (!request) return;
    const body = request.body;
    const refresh =
      (typeof body === 'string' && body.includes('grant_type=refresh_token')) ||
      (body instanceof Uint8Array && Buffer.from(body).includes('grant_type=refresh_token'));
    tracked.set(request, { context: context.active(), refresh });
  };
  const onHeaders = (message: unknown) => {
    const { request, response } = message as { request?: object; response?: UndiciResponse };
    if (!request || !response) return;
    const entry = tracked.get(request);
    if (!entry) return;
    if (entry.refresh) {
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      recordAuthEvent(
        {
          outcome: ok ? 'success' : 'failure',
          reason: ok ? 'token_refreshed' : 'refresh_failed',
          side: 'client',
          httpStatusCode: response.statusCode,
        },
        entry.context,
      );
      return;
    }
    if (response.statusCode !== 401 && response.statusCode !== 403) return;
    const challenge = headerValue(response.headers, 'www-authenticate');
    if (!isBearerChallenge(challenge)) return;
    recordAuthFailure(
      {
        reason: reasonFromChallenge(response.statusCode, challenge),
        side: 'client',
        httpStatusCode: response.statusCode,
      },
      entry.context,
    );
  };
  const onError = (message: unknown) => {
    const request = (message as { request?: object }).request;
    const entry = request ? tracked.get(request) : undefined;
    if (entry?.refresh) recordAuthFailure({ reason: 'refresh_failed', side: 'client' }, entry.context);
  };
  subscribe('undici:request:create', onCreate);
  subscribe('undici:request:headers', onHeaders);
  subscribe('undici:request:error', onError);
  return () => {
    unsubscribe('undici:request:create', onCreate);
    unsubscribe('undici:request:headers', onHeaders);
    unsubscribe('undici:request:error', onError);
  };
};

/** Starts observing HTTP auth challenges on both sides; returns the function that stops it. */
export const observeHttpAuth = (): (() => void) => {
  const stopServer = observeServerChallenges();
  const stopClient = observeClientChallenges();
  return () => {
    stopServer();
    stopClient();
  };
};
