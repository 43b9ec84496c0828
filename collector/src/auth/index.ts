export {
  createAuthenticator,
  type Authenticator,
  type AuthenticatorConfig,
  type AuthResult,
  type OidcConfig,
} from './authenticator.js';
export { authFailureMessage, requireAuth, wwwAuthenticate, type RequireAuthOptions } from './require-auth.js';
