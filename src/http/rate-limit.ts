import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { Duration } from '../config/duration.ts';
import { sendJson } from './routes.ts';

/** `rateLimit: { requests: 100, per: '1s' }` in a configuration; `per` is parsed to milliseconds. */
export const RateLimitConfig = z
  .object({
    /** Requests allowed per window. */
    requests: z.number({ error: 'expected a whole number of requests' }).int().positive().max(1_000_000),
    /** The window: '1s', '1m', '1h'. */
    per: Duration,
  })
  .strict();
export type RateLimitConfig = z.infer<typeof RateLimitConfig>;

/** What a limiter says about one request. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Requests allowed per window. */
  readonly limit: number;
  /** Requests left in the window after this one. */
  readonly remaining: number;
  /** Whole seconds until the window ends (rounded up, at least 1). */
  readonly resetSeconds: number;
  /** Whole seconds to wait before asking again: 0 when allowed, else `resetSeconds`. */
  readonly retryAfterSeconds: number;
  /** When the window ends, in ms since the epoch: which window a decision belongs to. */
  readonly resetAt: number;
}

export interface RateLimiterOptions {
  readonly requests: number;
  readonly perMs: number;
  /** Keys tracked at once; at the bound the key whose window ends first is forgotten. */
  readonly maxKeys?: number;
  /** The clock (ms since the epoch); tests drive it. */
  readonly now?: () => number;
}

/** Keys tracked at once by default: far more than sources or tokens, bounded for keys a client picks. */
const DEFAULT_MAX_KEYS = 10_000;

interface Window {
  readonly endsAt: number;
  count: number;
}

/**
 * Fixed-window limiter: each key may make `requests` requests per window of `perMs`; a key's
 * window starts at its first request after the previous one ended. Refused requests do not
 * count. Windows are kept in the order they end (a renewed one is moved to the back), so
 * ended ones are dropped from the front as requests come, without a timer or a scan.
 */
export class RateLimiter {
  readonly requests: number;
  readonly perMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly windows = new Map<string, Window>();

  constructor(options: RateLimiterOptions) {
    this.requests = options.requests;
    this.perMs = options.perMs;
    this.maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.now = options.now ?? Date.now;
  }

  /** Counts one request of `key`, if the window has room for it. */
  take(key: string, now: number = this.now()): RateLimitDecision {
    this.dropEnded(now);
    let window = this.windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      this.windows.delete(key);
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
      window = { endsAt: now + this.perMs, count: 0 };
      this.windows.set(key, window);
    }
    const allowed = window.count < this.requests;
    if (allowed) window.count += 1;
    const resetSeconds = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    return {
      allowed,
      limit: this.requests,
      remaining: this.requests - window.count,
      resetSeconds,
      retryAfterSeconds: allowed ? 0 : resetSeconds,
      resetAt: window.endsAt,
    };
  }

  /** Keys whose window is still open. */
  get size(): number {
    return this.windows.size;
  }

  private dropEnded(now: number): void {
    for (const [key, w] of this.windows) {
      if (w.endsAt > now) return;
      this.windows.delete(key);
    }
  }
}

/** '1 s', '90 s', '5 min', '1 h', '2 d': a window as the diagnostics say it. */
export function formatWindow(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.ceil(ms / 1000)} s`;
}

/** '100 requests per 1 s'. */
export function describeRateLimit(limiter: Pick<RateLimiter, 'requests' | 'perMs'>): string {
  return `${limiter.requests} request${limiter.requests === 1 ? '' : 's'} per ${formatWindow(limiter.perMs)}`;
}

/**
 * The RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset headers (IETF httpapi
 * ratelimit-headers draft, delta-seconds), set on the response whatever it answers; node
 * merges them into the status line's headers, for raw handlers and express alike.
 */
export function setRateLimitHeaders(res: ServerResponse, d: RateLimitDecision): void {
  res.setHeader('RateLimit-Limit', String(d.limit));
  res.setHeader('RateLimit-Remaining', String(d.remaining));
  res.setHeader('RateLimit-Reset', String(d.resetSeconds));
}

/**
 * Answers a refused request: 429 with Retry-After (RFC 6585 §4), the RateLimit-* headers and
 * an OperationOutcome of code 'throttled', e.g. '100 requests per 1 s for this source; try again in 1 s'.
 */
export function sendRateLimited(res: ServerResponse, d: RateLimitDecision, limiter: Pick<RateLimiter, 'requests' | 'perMs'>, scope: string): void {
  setRateLimitHeaders(res, d);
  const diagnostics = `${describeRateLimit(limiter)} ${scope}; try again in ${d.retryAfterSeconds} s`;
  sendJson(res, 429, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled', diagnostics }] }, { 'Retry-After': String(d.retryAfterSeconds) });
}
