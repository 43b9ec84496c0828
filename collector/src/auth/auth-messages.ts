import type { AuthReason } from '@mcpscope/instrumentation/conventions';

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
