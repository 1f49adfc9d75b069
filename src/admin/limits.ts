import type { Response } from 'express';
import type { AuditSink } from '../audit/event.ts';
import { RateLimiter, sendRateLimited, setRateLimitHeaders } from '../http/rate-limit.ts';

/** Failed authentications an address may make per minute before it is answered 429 without a lookup. */
const FAILURES_PER_MINUTE = 30;

/**
 * The admin API's rate limits: per token (`token:<name>`, `--api-rate-limit` a minute) and, for
 * failed authentications, per address (`ip:<address>`), so guessing tokens is slow and cannot
 * flood the audit trail. The first refusal of each window is recorded (`api.rate-limited`).
 */
export class ApiLimits {
  private readonly tokens: RateLimiter;
  private readonly failures: RateLimiter;
  private readonly audit: { note(e: Parameters<AuditSink['record']>[0]): void };
  private readonly noted = new Map<string, number>();

  constructor(requestsPerMinute: number, audit: { note(e: Parameters<AuditSink['record']>[0]): void }, now?: () => number) {
    this.tokens = new RateLimiter({ requests: requestsPerMinute, perMs: 60_000, ...(now ? { now } : {}) });
    this.failures = new RateLimiter({ requests: FAILURES_PER_MINUTE, perMs: 60_000, ...(now ? { now } : {}) });
    this.audit = audit;
  }

  /** Counts a request of `key`; answers 429 and returns false when it is over its limit. */
  limit(key: string, res: Response): boolean {
    const byAddress = key.startsWith('ip:');
    const limiter = byAddress ? this.failures : this.tokens;
    const d = limiter.take(key);
    if (d.allowed) {
      if (!byAddress) setRateLimitHeaders(res, d);
      return true;
    }
    if (this.noted.get(key) !== d.resetAt) {
      this.noted.set(key, d.resetAt);
      if (this.noted.size > 10_000) this.noted.delete(this.noted.keys().next().value!);
      const [kind, who] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      this.audit.note({
        action: 'api.rate-limited',
        outcome: 'denied',
        actor: kind === 'token' ? who : 'anonymous',
        ...(kind === 'ip' ? { ip: who } : {}),
        detail: { limit: d.limit, windowSeconds: 60, reason: byAddress ? 'too many failed authentications from this address' : 'too many requests with this token' },
      });
    }
    sendRateLimited(res, d, limiter, byAddress ? 'of failed authentication from this address' : 'for this token');
    return false;
  }
}
