export {
  createAuthenticator,
  type Authenticator,
  type AuthenticatorConfig,
  type AuthResult,
  type OidcConfig,
} from './authenticator.js';
export { authFailureMessage, requireAuth, wwwAuthenticate, type RequireAuthOptions } from './require-auth.js';
export { createAuthGate, gateRefusalMessage, type AuthGate, type GateVerdict } from './auth-gate.js';
export { grpcClientAddress, httpClientAddress } from './client-address.js';
export { FailureLimiter, type FailureLimiterOptions } from './failure-limiter.js';
export { JwksUnavailableError } from './jwks-cache.js';
