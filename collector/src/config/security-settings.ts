import { booleanFlag, integer, setting } from './setting-schemas.js';

/** Settings that bound what hostile or broken traffic can cost, and how credentials are judged. */
export const SECURITY_SETTINGS = {
  authFailureLimit: setting({
    flag: '--auth-failure-limit',
    env: 'MCPSCOPE_AUTH_FAILURE_LIMIT',
    expected: 'an integer from 1 to 100000',
    description:
      'failed authentications one client address may have per minute; past it, it is answered 429 with Retry-After until the minute ends',
    schema: integer(1, 100_000),
    default: 30,
  }),
  oidcRequireExp: setting({
    flag: '--oidc-require-exp',
    env: 'MCPSCOPE_OIDC_REQUIRE_EXP',
    expected: 'true or false',
    description: 'refuse OIDC JWTs without an exp claim (they would never expire)',
    schema: booleanFlag,
    default: true,
  }),
  oidcJwksGraceSeconds: setting({
    flag: '--oidc-jwks-grace-seconds',
    env: 'MCPSCOPE_OIDC_JWKS_GRACE_SECONDS',
    expected: 'an integer from 0 to 604800',
    description:
      'how long the last good identity provider keys keep verifying JWTs while the JWKS URL cannot be fetched (after their 10-minute age)',
    schema: integer(0, 604_800),
    default: 6 * 3600,
  }),
  maxServices: setting({
    flag: '--max-services',
    env: 'MCPSCOPE_MAX_SERVICES',
    expected: 'an integer from 1 to 100000',
    description: 'distinct service names kept as metric label values; the rest become _other',
    schema: integer(1, 100_000),
    default: 200,
  }),
  maxLabelValues: setting({
    flag: '--max-label-values',
    env: 'MCPSCOPE_MAX_LABEL_VALUES',
    expected: 'an integer from 1 to 100000',
    description:
      'distinct values of every other label taken from spans (error types, methods, verdicts) kept in metrics; the rest become _other',
    schema: integer(1, 100_000),
    default: 100,
  }),
  maxConnections: setting({
    flag: '--max-connections',
    env: 'MCPSCOPE_MAX_CONNECTIONS',
    expected: 'an integer from 1 to 100000',
    description:
      'open HTTP connections at once (keep it under the file descriptor limit); past it, the connection waiting longest without a request is closed',
    schema: integer(1, 100_000),
    default: 512,
  }),
  headersTimeoutSeconds: setting({
    flag: '--headers-timeout-seconds',
    env: 'MCPSCOPE_HEADERS_TIMEOUT_SECONDS',
    expected: 'an integer from 1 to 600',
    description: 'time an HTTP client has to send its request headers',
    schema: integer(1, 600),
    default: 10,
  }),
  requestTimeoutSeconds: setting({
    flag: '--request-timeout-seconds',
    env: 'MCPSCOPE_REQUEST_TIMEOUT_SECONDS',
    expected: 'an integer from 1 to 3600',
    description: 'time an HTTP client has to send a whole request, body included',
    schema: integer(1, 3600),
    default: 30,
  }),
  maxClockSkewSeconds: setting({
    flag: '--max-clock-skew-seconds',
    env: 'MCPSCOPE_MAX_CLOCK_SKEW_SECONDS',
    expected: 'an integer from 0 to 86400',
    description:
      "how far past its arrival a span's time is trusted; later times are set to the arrival time (so retention and time order hold)",
    schema: integer(0, 86_400),
    default: 300,
  }),
};

/** Static bearer tokens shorter than this are refused at start-up: they could be guessed. */
export const MIN_STATIC_TOKEN_LENGTH = 32;
