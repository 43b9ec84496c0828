// Types of oauth-client.mjs.
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

export type FetchLike = typeof fetch;

export declare class InMemoryOAuthClient implements OAuthClientProvider {
  constructor(options: { scope: string; fetchFn?: FetchLike });
  readonly scope: string;
  readonly fetchFn: FetchLike;
  pendingCode: string | undefined;
  get redirectUrl(): string;
  get clientMetadata(): OAuthClientMetadata;
  clientInformation(): OAuthClientInformationMixed | undefined;
  saveClientInformation(information: OAuthClientInformationMixed): void;
  tokens(): OAuthTokens | undefined;
  saveTokens(tokens: OAuthTokens): void;
  saveCodeVerifier(codeVerifier: string): void;
  codeVerifier(): string;
  redirectToAuthorization(authorizationUrl: URL): Promise<void>;
  /** Epoch milliseconds after which the current access token is no longer accepted. */
  accessTokenExpiresAt(): number | undefined;
}

export declare const authorize: (provider: InMemoryOAuthClient, serverUrl: URL) => Promise<void>;

export type AuthEvent =
  | { kind: 'challenge'; httpStatus: number; reason: string }
  | { kind: 'refresh' | 'refresh_failed'; httpStatus: number };

export declare const createAuthObservingFetch: (
  onAuthEvent: (event: AuthEvent) => void,
  fetchFn?: FetchLike,
) => FetchLike;
