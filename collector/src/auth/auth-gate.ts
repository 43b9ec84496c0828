import type { AuthReason } from '@mcpscope/instrumentation/conventions';
import type { Authenticator } from './authenticator.js';
import { FailureLimiter } from './failure-limiter.js';
import { authFailureMessage } from './auth-messages.js';

/** How long a caller is asked to wait when the identity provider's keys cannot be had. */
const KEYS_UNAVAILABLE_RETRY_SECONDS = 5;

/**
 * What the gate says of a request: let in with the identity of its producer (none without
 * authentication: every caller is then the same one, and spans are not bound to anyone), refused (401), told to
 * slow down after too many failures (429), or told to come back because its token cannot be judged
 * now (503). Both refusals with a wait are retryable; a 401 is final for an exporter.
 */
export type GateVerdict =
  | { ok: true; producer: string | undefined }
  | { ok: false; status: 401; reason: AuthReason }
  | { ok: false; status: 429 | 503; reason: 'throttled' | 'auth_unavailable'; retryAfterSeconds: number };

export interface AuthGate {
  readonly isEnabled: boolean;
  /** Judges an `Authorization` header from a client address. Never keeps the header. */
  check(authorization: string | undefined, clientAddress: string): Promise<GateVerdict>;
}

const WAIT_MESSAGES = {
  throttled: 'too many failed authentications from this address; retry later',
  auth_unavailable:
    'the bearer token cannot be checked now (identity provider keys unavailable); retry later',
} as const;

/** The fixed text a refused caller is told. */
export const gateRefusalMessage = (verdict: Exclude<GateVerdict, { ok: true }>): string =>
  verdict.status === 401 ? authFailureMessage(verdict.reason) : WAIT_MESSAGES[verdict.reason];

/** Authentication with failures limited per client address, shared by ingest and the API. */
export const createAuthGate = (
  authenticator: Authenticator,
  limiter: FailureLimiter = new FailureLimiter(),
): AuthGate => ({
  isEnabled: authenticator.isEnabled,
  async check(authorization, clientAddress) {
    if (!authenticator.isEnabled) return { ok: true, producer: undefined };
    const wait = limiter.retryAfterSeconds(clientAddress);
    if (wait !== undefined) return { ok: false, status: 429, reason: 'throttled', retryAfterSeconds: wait };
    const result = await authenticator.authenticate(authorization);
    if (result.ok) return { ok: true, producer: result.subject };
    if (result.unavailable) {
      return {
        ok: false,
        status: 503,
        reason: 'auth_unavailable',
        retryAfterSeconds: KEYS_UNAVAILABLE_RETRY_SECONDS,
      };
    }
    limiter.failed(clientAddress);
    return { ok: false, status: 401, reason: result.reason };
  },
});
