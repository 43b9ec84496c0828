import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface JwksCacheOptions {
  jwksUrl: string;
  /** How long fetched keys are used before they are fetched again. */
  maxAgeMs?: number;
  /** How long past `maxAgeMs` the last good keys keep verifying tokens while the key set cannot be fetched. */
  graceMs?: number;
  /** How long one fetch may take. */
  timeoutMs?: number;
  /** Least time between fetches after a failed one, or for a token naming a key not in the set. */
  cooldownMs?: number;
  /** Called on each failed fetch (with the age of the keys still served, if any): log and count it. */
  onFetchFailed?: (event: { servingStaleKeys: boolean; keysAgeSeconds: number | undefined }) => void;
  /** Called for each token verified with keys past `maxAgeMs`. */
  onStaleKeysUsed?: () => void;
  now?: () => number;
}

/** No keys to verify with: never fetched, or the last good ones are past their grace time. Retryable. */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError';
}

/** Least time between fetches while no keys are held at all. */
const NO_KEYS_COOLDOWN_MS = 5_000;

/** A key set document is small; a larger answer is not one. */
const MAX_JWKS_BYTES = 1 << 20;

interface FetchedKeys {
  keySet: ReturnType<typeof createLocalJWKSet>;
  fetchedAt: number;
}

/**
 * The identity provider's keys, fetched on demand and kept: past their age they are fetched again in
 * the background while the last good ones keep serving, for at most `graceMs` more. An outage of the
 * provider therefore neither fails valid tokens at once nor lets keys live for ever; without any keys
 * the caller gets {@link JwksUnavailableError}, a retryable condition, never a verdict on the token.
 */
export const createJwksCache = ({
  jwksUrl,
  maxAgeMs = 10 * 60_000,
  graceMs = 6 * 3_600_000,
  timeoutMs = 5_000,
  cooldownMs = 30_000,
  onFetchFailed = () => {},
  onStaleKeysUsed = () => {},
  now = Date.now,
}: JwksCacheOptions): JWTVerifyGetKey => {
  let current: FetchedKeys | undefined;
  let inFlight: Promise<void> | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastFailureAt = Number.NEGATIVE_INFINITY;

  const fetchKeys = async (): Promise<void> => {
    lastAttemptAt = now();
    try {
      const response = await fetch(jwksUrl, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      const text = await response.text();
      if (!response.ok || text.length > MAX_JWKS_BYTES) throw new Error('no key set');
      const document = JSON.parse(text) as JSONWebKeySet;
      current = { keySet: createLocalJWKSet(document), fetchedAt: now() };
    } catch {
      lastFailureAt = now();
      onFetchFailed({
        servingStaleKeys: current !== undefined && now() - current.fetchedAt < maxAgeMs + graceMs,
        keysAgeSeconds: current === undefined ? undefined : Math.round((now() - current.fetchedAt) / 1000),
      });
    }
  };

  /**
   * One fetch at a time. After a failure, none within the cooldown (a shorter one while no keys are
   * held, so recovery is quick); for a token naming an unknown key, none within the cooldown of any fetch.
   */
  const refresh = (why: 'due' | 'unknown_key'): Promise<void> => {
    if (inFlight !== undefined) return inFlight;
    const gap = current === undefined ? Math.min(cooldownMs, NO_KEYS_COOLDOWN_MS) : cooldownMs;
    const since = now() - (why === 'unknown_key' ? lastAttemptAt : lastFailureAt);
    if (since < gap) return Promise.resolve();
    inFlight = fetchKeys().finally(() => (inFlight = undefined));
    return inFlight;
  };

  return async function jwksKey(header, token) {
    if (current === undefined) await refresh('due');
    else if (now() - current.fetchedAt >= maxAgeMs) void refresh('due');
    const keys = current;
    if (keys === undefined) throw new JwksUnavailableError('the identity provider keys cannot be fetched');
    const age = now() - keys.fetchedAt;
    if (age >= maxAgeMs + graceMs)
      throw new JwksUnavailableError('the identity provider keys are past their grace time');
    try {
      const key = await keys.keySet(header, token);
      if (age >= maxAgeMs) onStaleKeysUsed();
      return key;
    } catch (error) {
      // A key rotated in since the last fetch: fetch once more (within the cooldown) before refusing.
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      await refresh('unknown_key');
      if (current === undefined || current === keys) throw error;
      return current.keySet(header, token);
    }
  };
};
