import type { Context, MiddlewareHandler } from 'hono';
import type { IngestObserver, IngestProtocol } from '../model/ingest-events.js';
import type { Authenticator } from './authenticator.js';
import type { AuthReason } from '@mcpscope/instrumentation/conventions';

export interface RequireAuthOptions {
  authenticator: Authenticator;
  /** The protocol label of failures; a function when it depends on the request (e.g. its content type). */
  protocol: IngestProtocol | ((c: Context) => IngestProtocol);
  observer: IngestObserver;
}

const AUTH_MESSAGES: Record<AuthReason, string> = {
  missing_token: 'a bearer token is required',
  invalid_token: 'the bearer token is not valid',
  expired_token: 'the bearer token has expired',
  insufficient_scope: 'the bearer token does not allow this',
  refresh_failed: 'the bearer token could not be refreshed',
  token_refreshed: 'the bearer token was refreshed',
  unauthorized: 'not authorized',
  other: 'authentication failed',
};

/** The text an unauthenticated caller is told; fixed per reason, never derived from the token. */
export const authFailureMessage = (reason: AuthReason): string => AUTH_MESSAGES[reason];

/** `WWW-Authenticate` value for a 401, with the RFC 6750 error code when there was a token. */
export const wwwAuthenticate = (reason: AuthReason): string =>
  reason === 'missing_token' ? 'Bearer' : 'Bearer error="invalid_token"';

/**
 * Answers 401 `{ code, message }` with `WWW-Authenticate: Bearer` unless the request carries a valid
 * bearer token, counting each failure by reason. Passes everything through when no method is configured.
 */
export const requireAuth = ({ authenticator, protocol, observer }: RequireAuthOptions): MiddlewareHandler =>
  async function requireAuth(c, next) {
    if (!authenticator.isEnabled) return next();
    const result = await authenticator.authenticate(c.req.header('authorization'));
    if (result.ok) return next();
    observer.authFailed(typeof protocol === 'function' ? protocol(c) : protocol, result.reason);
    c.header('WWW-Authenticate', wwwAuthenticate(result.reason));
    return c.json({ code: result.reason, message: authFailureMessage(result.reason) }, 401);
  };
