import { apiKeyHeaders } from '../auth/api-key-headers.ts';
import { signedHeaders } from '../auth/hmac.ts';
import { type AuthDeps, type AuthProvider, sharedAuthProvider } from '../auth/index.ts';
import type { HttpDestinationAuth } from './config.ts';

/** Credentials of one request, given its exact body bytes (for a signature). */
export interface RequestAuth {
  /**
   * Headers to add, names in lower case. Rejects with a ConduitError (AUTH_TOKEN_*, or
   * HTTP_ABORTED) when a token cannot be had.
   */
  headers(body: string | Uint8Array, signal: AbortSignal): Promise<Record<string, string>>;
  /** The server answered 401 to `headers`: true when asking again may give a credential worth one more try. */
  invalidate(headers: Record<string, string>): boolean;
  /** Whether a 401 may be cured by a fresh credential at all. */
  readonly refreshable: boolean;
}

function fromProvider(provider: AuthProvider, refreshable: boolean): RequestAuth {
  return {
    refreshable,
    async headers(_body, signal): Promise<Record<string, string>> {
      const authorization = await provider.authorization(signal);
      return authorization === undefined ? {} : { authorization };
    },
    invalidate: (h) => (h['authorization'] === undefined ? false : provider.invalidate(h['authorization'])),
  };
}

/**
 * The credentials of a destination. Token schemes share one provider (one token cache) per
 * parsed auth block, hence across the lanes of a destination.
 */
export function requestAuth(config: HttpDestinationAuth, deps: AuthDeps): RequestAuth {
  switch (config.type) {
    case 'api-key-headers': {
      const headers = apiKeyHeaders(config);
      return { refreshable: false, headers: async () => ({ ...headers }), invalidate: () => false };
    }
    case 'hmac': {
      return {
        refreshable: false,
        headers: async (body) => signedHeaders(config, body),
        invalidate: () => false,
      };
    }
    case 'none':
    case 'bearer':
    case 'oauth2-client-credentials':
    case 'smart-backend':
      return fromProvider(sharedAuthProvider(config, deps), config.type === 'oauth2-client-credentials' || config.type === 'smart-backend');
    default:
      return config satisfies never;
  }
}
