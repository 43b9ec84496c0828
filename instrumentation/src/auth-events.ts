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

interface UndiciResponse {
  statusCode: number;
  headers: Array<Buffer | string>;
}

const headerValue = (headers: Array<Buffer | string>, name: string): string | undefined => {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
  }
  return undefined;
};

/**
 * Client side, through the `fetch` diagnostics channels (no patching): a 401/403 with a Bearer
 * challenge is a client auth failure, recorded in the context of the request that met it.
 */
const observeClientChallenges = (): (() => void) => {
  const tracked = new WeakMap<object, Context>();
  const onCreate = (message: unknown) => {
    const request = (message as { request?: object }).request;
    if (request) tracked.set(request, context.active());
  };
  const onHeaders = (message: unknown) => {
    const { request, response } = message as { request?: object; response?: UndiciResponse };
    if (!request || !response || (response.statusCode !== 401 && response.statusCode !== 403)) return;
    const parent = tracked.get(request);
    const challenge = headerValue(response.headers, 'www-authenticate');
    if (!parent || !isBearerChallenge(challenge)) return;
    recordAuthFailure(
      {
        reason: reasonFromChallenge(response.statusCode, challenge),
        side: 'client',
        httpStatusCode: response.statusCode,
      },
      parent,
    );
  };
  subscribe('undici:request:create', onCreate);
  subscribe('undici:request:headers', onHeaders);
  return () => {
    unsubscribe('undici:request:create', onCreate);
    unsubscribe('undici:request:headers', onHeaders);
  };
};

const isRefreshGrant = (body: unknown): boolean => {
  if (body instanceof URLSearchParams) return body.get('grant_type') === 'refresh_token';
  if (typeof body === 'string') return /(?:^|&)grant_type=refresh_token(?:&|$)/.test(body);
  return false;
};

const ORIGINAL_FETCH = Symbol.for('mcpscope.fetch.original');

/**
 * Client side token refreshes: the OAuth `refresh_token` grant the SDK's client auth flow sends to the
 * token endpoint. Its body is a stream by the time the diagnostics channels see it, so `fetch` is
 * wrapped; only the grant type is read, and every other request passes straight through.
 */
const observeTokenRefreshes = (): (() => void) => {
  const globals = globalThis as typeof globalThis & { [ORIGINAL_FETCH]?: typeof fetch };
  if (typeof globals.fetch !== 'function' || globals[ORIGINAL_FETCH]) return () => {};
  const original = globals.fetch;
  globals[ORIGINAL_FETCH] = original;
  globals.fetch = async function fetch(input: Parameters<typeof original>[0], init?: RequestInit) {
    if (!isRefreshGrant(init?.body)) return original(input, init);
    const parent = context.active();
    try {
      const response = await original(input, init);
      recordAuthEvent(
        {
          outcome: response.ok ? 'success' : 'failure',
          reason: response.ok ? 'token_refreshed' : 'refresh_failed',
          side: 'client',
          httpStatusCode: response.status,
        },
        parent,
      );
      return response;
    } catch (error) {
      recordAuthFailure({ reason: 'refresh_failed', side: 'client' }, parent);
      throw error;
    }
  } as typeof fetch;
  return () => {
    globals.fetch = original;
    delete globals[ORIGINAL_FETCH];
  };
};

/** Starts observing HTTP auth challenges on both sides; returns the function that stops it. */
export const observeHttpAuth = (): (() => void) => {
  const stops = [observeServerChallenges(), observeClientChallenges(), observeTokenRefreshes()];
  return () => stops.forEach((stop) => stop());
};
