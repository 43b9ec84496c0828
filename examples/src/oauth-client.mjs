// The agent's side of OAuth: an in-memory `OAuthClientProvider` for the SDK's client auth flow,
// and a fetch that counts what a user would see of auth (401/403 challenges, token refreshes).
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';

/**
 * Keeps client registration, PKCE verifier and tokens in memory, and completes the authorization
 * step itself: the demo authorization server approves at once and redirects with a code, which
 * this provider reads from the `Location` header instead of opening a browser.
 */
export class InMemoryOAuthClient {
  constructor({ scope, fetchFn = fetch }) {
    this.scope = scope;
    this.fetchFn = fetchFn;
    this.clientInfo = undefined;
    this.savedTokens = undefined;
    this.tokensSavedAt = undefined;
    this.verifier = undefined;
    this.pendingCode = undefined;
  }

  get redirectUrl() {
    return 'http://127.0.0.1/oauth/callback';
  }

  get clientMetadata() {
    return {
      client_name: 'demo-agent',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: this.scope,
    };
  }

  clientInformation() {
    return this.clientInfo;
  }

  saveClientInformation(information) {
    this.clientInfo = information;
  }

  tokens() {
    return this.savedTokens;
  }

  saveTokens(tokens) {
    this.savedTokens = tokens;
    this.tokensSavedAt = Date.now();
  }

  saveCodeVerifier(codeVerifier) {
    this.verifier = codeVerifier;
  }

  codeVerifier() {
    if (!this.verifier) throw new Error('No PKCE code verifier saved');
    return this.verifier;
  }

  async redirectToAuthorization(authorizationUrl) {
    const response = await this.fetchFn(authorizationUrl, { redirect: 'manual' });
    const location = response.headers.get('location');
    const code = location ? new URL(location).searchParams.get('code') : null;
    if (!code) throw new Error(`Authorization was not granted (HTTP ${response.status})`);
    this.pendingCode = code;
  }

  /** Epoch milliseconds after which the current access token is no longer accepted. */
  accessTokenExpiresAt() {
    if (!this.savedTokens?.expires_in || this.tokensSavedAt === undefined) return undefined;
    return this.tokensSavedAt + this.savedTokens.expires_in * 1000;
  }
}

/**
 * Runs the SDK's authorization flow before the first MCP request (discovery, dynamic client
 * registration, authorization code with PKCE), so the session starts with tokens in hand.
 */
export const authorize = async (provider, serverUrl) => {
  const first = await auth(provider, { serverUrl, scope: provider.scope, fetchFn: provider.fetchFn });
  if (first === 'AUTHORIZED') return;
  const authorizationCode = provider.pendingCode;
  provider.pendingCode = undefined;
  const second = await auth(provider, { serverUrl, authorizationCode, fetchFn: provider.fetchFn });
  if (second !== 'AUTHORIZED') throw new Error('Authorization did not complete');
};

const isBearerChallenge = (response) => /^\s*bearer\b/i.test(response.headers.get('www-authenticate') ?? '');

const isRefreshGrant = (init) => {
  const body = init?.body;
  const text = body instanceof URLSearchParams ? body.toString() : typeof body === 'string' ? body : '';
  return text.includes('grant_type=refresh_token');
};

/**
 * A fetch that notes every bearer challenge answered (status and the RFC 6750 error code, never
 * the token) and every refresh_token grant, for the agent's summary.
 */
export const createAuthObservingFetch = (onAuthEvent, fetchFn = fetch) =>
  async function authObservingFetch(input, init) {
    const response = await fetchFn(input, init);
    if ((response.status === 401 || response.status === 403) && isBearerChallenge(response)) {
      const challenge = response.headers.get('www-authenticate') ?? '';
      const description = /error_description="([^"]*)"/.exec(challenge)?.[1] ?? '';
      const error = /error="([^"]*)"/.exec(challenge)?.[1] ?? 'unauthorized';
      const reason = error === 'invalid_token' && /expired/i.test(description) ? 'expired_token' : error;
      onAuthEvent({ kind: 'challenge', httpStatus: response.status, reason });
    } else if (isRefreshGrant(init)) {
      onAuthEvent({ kind: response.ok ? 'refresh' : 'refresh_failed', httpStatus: response.status });
    }
    return response;
  };
