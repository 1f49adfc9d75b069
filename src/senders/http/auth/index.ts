import { clientCredentialsProvider } from './client-credentials.ts';
import type { AuthConfig } from './config.ts';
import { smartBackendProvider } from './smart-backend.ts';
import type { DispatcherFor } from '../tls-dispatcher.ts';
import { type AuthProvider, noAuth, staticBearer } from './types.ts';

export { AUTH_DEFAULTS, type AuthConfig, authConfig, type ClientCredentialsConfig, httpUrl, type SmartBackendConfig } from './config.ts';
export { clientCredentialsRequest } from './client-credentials.ts';
export { CLIENT_ASSERTION_TYPE, clientAssertion, loadPrivateKey } from './smart-backend.ts';
export { CachedTokenProvider } from './token-cache.ts';
export { readTokenAnswer, requestToken, type TokenGrant } from './token-endpoint.ts';
export { type AuthProvider, noAuth, staticBearer } from './types.ts';
export { type ApiKeyHeadersConfig, apiKeyHeaders, apiKeyHeadersAuth } from './api-key-headers.ts';
export { HMAC_DEFAULTS, type HmacConfig, hmacAuth, hmacSha256, signatureHeader, signedHeaders, verifySignatureHeader } from './hmac.ts';

export interface AuthDeps {
  /** Timeout of each token request. */
  readonly timeoutMs: number;
  /** The destination's connection pools (its `tls`), so a token endpoint can be verified with the destination's CA. */
  readonly dispatcherFor?: DispatcherFor;
}

/** A new provider for `config`. Throws CONFIG_INVALID when a SMART private key is unusable. */
export function createAuthProvider(config: AuthConfig, deps: AuthDeps): AuthProvider {
  switch (config.type) {
    case 'none':
      return noAuth;
    case 'bearer':
      return staticBearer(config.token);
    case 'oauth2-client-credentials':
      return clientCredentialsProvider(config, deps);
    case 'smart-backend':
      return smartBackendProvider(config, deps);
    default:
      return config satisfies never;
  }
}

/**
 * Providers by parsed auth block. The engine creates one sender per lane from the same parsed
 * destination config object (engine/channel.ts), so the lanes of a destination share one
 * provider, hence one token cache and one token request at a time; a reloaded configuration is
 * a new object and gets a new provider.
 */
const shared = new WeakMap<AuthConfig, AuthProvider>();

export function sharedAuthProvider(config: AuthConfig, deps: AuthDeps): AuthProvider {
  let provider = shared.get(config);
  if (!provider) {
    provider = createAuthProvider(config, deps);
    shared.set(config, provider);
  }
  return provider;
}
