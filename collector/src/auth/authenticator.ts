import { createHash, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { AuthReason } from '@mcpscope/instrumentation/conventions';
import { createJwksCache, JwksUnavailableError, type JwksCacheOptions } from './jwks-cache.js';

export interface OidcConfig {
  /** Expected `iss` claim, e.g. `https://login.microsoftonline.com/<tenant>/v2.0`. */
  issuer: string;
  /** Expected `aud` claim (one value or any of several). */
  audience: string | string[];
  jwksUrl: string;
  /** Accepted signature algorithms; asymmetric ones only by default, so a public key can never act as an HMAC secret. */
  algorithms?: string[];
  /** Allowed clock skew for `exp` and `nbf`, in seconds. */
  clockToleranceSeconds?: number;
  /** Refuse JWTs without `exp` (which would otherwise never expire). On unless turned off. */
  requireExp?: boolean;
  /** How long the last good keys keep serving while the JWKS URL cannot be fetched, past their age. */
  jwksGraceSeconds?: number;
  /** How long fetched keys are used before they are fetched again. */
  jwksMaxAgeSeconds?: number;
}

/** What the JWKS cache reports, for logs and metrics. */
export type JwksEvents = Pick<JwksCacheOptions, 'onFetchFailed' | 'onStaleKeysUsed'>;

export interface AuthenticatorConfig {
  /** Static bearer tokens; only their SHA-256 digests are kept in memory. */
  tokens?: readonly string[];
  oidc?: OidcConfig;
  jwksEvents?: JwksEvents;
}

/**
 * A failure is `unavailable` when the token could not be judged (no identity provider keys): the
 * caller should retry, not give up as on a refused token.
 */
export type AuthResult =
  { ok: true; subject: string } | { ok: false; reason: AuthReason; unavailable?: true };

export interface Authenticator {
  /** Whether any method is configured; without one, ingest is open (loopback only, enforced by config). */
  readonly isEnabled: boolean;
  /** Checks an `Authorization` header value. Never logs or keeps the value. */
  authenticate(authorization: string | undefined): Promise<AuthResult>;
}

const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function createAuthenticator({
  tokens = [],
  oidc,
  jwksEvents = {},
}: AuthenticatorConfig = {}): Authenticator {
  const tokenDigests = tokens.filter((token) => token !== '').map(sha256);
  const verifyJwt = oidc ? createJwtVerifier(oidc, jwksEvents) : undefined;

  /** Compares digests (fixed length) against every configured token, so timing says nothing about which matched. */
  const matchStaticToken = (token: string): number => {
    const digest = sha256(token);
    let matched = -1;
    tokenDigests.forEach((candidate, index) => {
      if (timingSafeEqual(candidate, digest) && matched === -1) matched = index;
    });
    return matched;
  };

  return {
    isEnabled: tokenDigests.length > 0 || verifyJwt !== undefined,
    async authenticate(authorization) {
      if (authorization === undefined || authorization.trim() === '')
        return { ok: false, reason: 'missing_token' };
      const token = BEARER.exec(authorization)?.[1];
      if (token === undefined) return { ok: false, reason: 'invalid_token' };
      const staticIndex = matchStaticToken(token);
      if (staticIndex !== -1) return { ok: true, subject: `static-token-${staticIndex + 1}` };
      if (verifyJwt) return verifyJwt(token);
      return { ok: false, reason: 'invalid_token' };
    },
  };
}

/** Who a JWT speaks for: its subject, else the client it was issued to (client-credential tokens). */
const jwtSubject = (payload: Record<string, unknown>): string => {
  for (const claim of ['sub', 'azp', 'client_id', 'appid']) {
    const value = payload[claim];
    if (typeof value === 'string' && value !== '') return value;
  }
  return 'unknown-subject';
};

function createJwtVerifier(
  {
    issuer,
    audience,
    jwksUrl,
    algorithms = ASYMMETRIC_ALGORITHMS,
    clockToleranceSeconds = 5,
    requireExp = true,
    jwksGraceSeconds = 6 * 3600,
    jwksMaxAgeSeconds = 600,
  }: OidcConfig,
  jwksEvents: JwksEvents,
): (token: string) => Promise<AuthResult> {
  const keySet = createJwksCache({
    jwksUrl,
    maxAgeMs: jwksMaxAgeSeconds * 1000,
    graceMs: jwksGraceSeconds * 1000,
    ...jwksEvents,
  });
  return async function verifyJwt(token) {
    try {
      const { payload } = await jwtVerify(token, keySet, {
        issuer,
        audience,
        algorithms,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: requireExp ? ['exp'] : [],
      });
      return { ok: true, subject: jwtSubject(payload) };
    } catch (error) {
      if (error instanceof JwksUnavailableError) return { ok: false, reason: 'other', unavailable: true };
      // Expiry is its own reason (on-call sees rotation problems); every other failure is an invalid token.
      return {
        ok: false,
        reason: error instanceof joseErrors.JWTExpired ? 'expired_token' : 'invalid_token',
      };
    }
  };
}
