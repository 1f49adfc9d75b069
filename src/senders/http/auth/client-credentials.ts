import { CachedTokenProvider } from './token-cache.ts';
import { requestToken } from './token-endpoint.ts';
import type { ClientCredentialsConfig } from './config.ts';
import type { AuthDeps } from './index.ts';

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * The form and headers of a client credentials token request (RFC 6749 §4.4.2), with the
 * client authenticated per §2.3.1: HTTP Basic over the form-encoded id and secret, or both in
 * the body.
 */
export function clientCredentialsRequest(config: ClientCredentialsConfig): { form: URLSearchParams; headers: Record<string, string> } {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (config.scope !== undefined) form.set('scope', config.scope);
  switch (config.authMethod) {
    case 'client_secret_basic': {
      const credentials = `${formEncode(config.clientId)}:${formEncode(config.clientSecret)}`;
      return { form, headers: { authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` } };
    }
    case 'client_secret_post':
      form.set('client_id', config.clientId);
      form.set('client_secret', config.clientSecret);
      return { form, headers: {} };
    default:
      return config.authMethod satisfies never;
  }
}

/** OAuth 2.0 client credentials with a client secret, tokens cached and shared. */
export function clientCredentialsProvider(config: ClientCredentialsConfig, deps: AuthDeps): CachedTokenProvider {
  const dispatcher = deps.dispatcherFor?.(config.tokenUrl);
  return new CachedTokenProvider(
    (signal) => {
      const { form, headers } = clientCredentialsRequest(config);
      return requestToken(config.tokenUrl, form, headers, deps.timeoutMs, signal, dispatcher);
    },
    { leewayS: config.tokenLifetimeLeewayS },
  );
}
