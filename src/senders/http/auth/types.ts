/**
 * Supplies the Authorization header of outgoing requests. One provider may serve several
 * senders (the lanes of a destination) at once.
 */
export interface AuthProvider {
  /**
   * The Authorization header value for the next request, or undefined for none. Rejects with a
   * ConduitError: AUTH_TOKEN_REJECTED, AUTH_TOKEN_UNAVAILABLE, AUTH_TOKEN_RESPONSE_INVALID, or
   * HTTP_ABORTED when `signal` aborts first.
   */
  authorization(signal: AbortSignal): Promise<string | undefined>;
  /**
   * The server answered 401 to `authorization`: forget it (unless it was already replaced).
   * True when asking `authorization()` again may give a credential worth one more try.
   */
  invalidate(authorization: string): boolean;
}

/** No Authorization header. */
export const noAuth: AuthProvider = Object.freeze({
  authorization: async () => undefined,
  invalidate: () => false,
});

/** A fixed bearer token: nothing to refresh, so a 401 is final. */
export function staticBearer(token: string): AuthProvider {
  const header = `Bearer ${token}`;
  return { authorization: async () => header, invalidate: () => false };
}
