import { ConduitError } from '../../../errors.ts';
import type { TokenGrant } from './token-endpoint.ts';
import type { AuthProvider } from './types.ts';

interface CachedToken {
  readonly header: string;
  /** Epoch ms after which the token is renewed before use. */
  readonly renewAt: number;
}

export interface TokenCacheOptions {
  /** Renew this many seconds before expiry, but never earlier than half-way through the lifetime. */
  readonly leewayS: number;
  readonly now?: () => number;
}

/** Never aborted: a shared token request belongs to no single caller. */
const SHARED = new AbortController().signal;

/**
 * Caches a bearer token until shortly before it expires, for every sender that shares this
 * provider. Concurrent callers wait for one token request instead of each sending their own
 * (single flight); a caller whose signal aborts stops waiting, but the request goes on for the
 * others. A failed request is not cached: the next call tries again.
 *
 * Without `expires_in` the token is kept until the server answers 401.
 */
export class CachedTokenProvider implements AuthProvider {
  private readonly fetchToken: (signal: AbortSignal) => Promise<TokenGrant>;
  private readonly leewayS: number;
  private readonly now: () => number;
  private current: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;
  /** Token requests started so far. */
  tokenRequests = 0;

  constructor(fetchToken: (signal: AbortSignal) => Promise<TokenGrant>, options: TokenCacheOptions) {
    this.fetchToken = fetchToken;
    this.leewayS = options.leewayS;
    this.now = options.now ?? Date.now;
  }

  authorization(signal: AbortSignal): Promise<string> {
    const current = this.current;
    if (current && this.now() < current.renewAt) return Promise.resolve(current.header);
    return waitFor(this.refresh(), signal).then((t) => t.header);
  }

  invalidate(authorization: string): boolean {
    if (this.current?.header === authorization) this.current = undefined;
    return true;
  }

  private refresh(): Promise<CachedToken> {
    if (this.pending) return this.pending;
    this.tokenRequests += 1;
    const startedAt = this.now();
    const pending = this.fetchToken(SHARED).then((grant) => this.toCached(grant, startedAt));
    this.pending = pending;
    pending.then(
      (token) => {
        if (this.pending === pending) {
          this.pending = undefined;
          this.current = token;
        }
      },
      () => {
        if (this.pending === pending) this.pending = undefined;
      },
    );
    return pending;
  }

  /** The lifetime counts from when the request was sent: the server's clock started no later. */
  private toCached(grant: TokenGrant, startedAt: number): CachedToken {
    const header = `Bearer ${grant.accessToken}`;
    if (grant.expiresInS === undefined) return { header, renewAt: Number.POSITIVE_INFINITY };
    const usableS = Math.max(grant.expiresInS - this.leewayS, grant.expiresInS / 2);
    return { header, renewAt: startedAt + usableS * 1000 };
  }
}

/** `promise`, or HTTP_ABORTED as soon as `signal` aborts. */
function waitFor<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = () => new ConduitError('HTTP_ABORTED', 'aborted while waiting for an access token');
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
