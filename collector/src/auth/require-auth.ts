import type { Context, MiddlewareHandler } from 'hono';
import type { IngestObserver, IngestProtocol } from '../model/ingest-events.js';
import { createAuthGate, gateRefusalMessage, type AuthGate } from './auth-gate.js';
import type { Authenticator } from './authenticator.js';
import { httpClientAddress } from './client-address.js';
import type { AuthReason } from '@mcpscope/instrumentation/conventions';
import { authFailureMessage } from './auth-messages.js';

export interface RequireAuthOptions {
  authenticator: Authenticator;
  /** Shared with the receivers, so failures on every surface count towards one limit per address. */
  gate?: AuthGate;
  /** The protocol label of failures; a function when it depends on the request (e.g. its content type). */
  protocol: IngestProtocol | ((c: Context) => IngestProtocol);
  observer: IngestObserver;
}

export { authFailureMessage };

/** `WWW-Authenticate` value for a 401, with the RFC 6750 error code when there was a token. */
export const wwwAuthenticate = (reason: AuthReason): string =>
  reason === 'missing_token' ? 'Bearer' : 'Bearer error="invalid_token"';

/**
 * Answers 401 `{ code, message }` with `WWW-Authenticate: Bearer` unless the request carries a valid
 * bearer token, counting each failure by reason. Passes everything through when no method is configured.
 */
export const requireAuth = ({
  authenticator,
  gate = createAuthGate(authenticator),
  protocol,
  observer,
}: RequireAuthOptions): MiddlewareHandler =>
  async function requireAuth(c, next) {
    if (!gate.isEnabled) return next();
    const verdict = await gate.check(c.req.header('authorization'), httpClientAddress(c));
    if (verdict.ok) return next();
    const label = typeof protocol === 'function' ? protocol(c) : protocol;
    if (verdict.status !== 401) {
      observer.rejected(label, verdict.reason);
      c.header('Retry-After', String(verdict.retryAfterSeconds));
      return c.json({ code: verdict.reason, message: gateRefusalMessage(verdict) }, verdict.status);
    }
    observer.authFailed(label, verdict.reason);
    c.header('WWW-Authenticate', wwwAuthenticate(verdict.reason));
    return c.json({ code: verdict.reason, message: gateRefusalMessage(verdict) }, 401);
  };
