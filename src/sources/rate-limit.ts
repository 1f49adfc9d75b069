import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeRateLimit, type RateLimitConfig, RateLimiter, sendRateLimited, setRateLimitHeaders } from '../http/rate-limit.ts';
import type { LogThrottle } from '../log-throttle.ts';
import { auditRefusal } from './refusal-audit.ts';
import type { SourceContext } from './types.ts';

/** A request that announces a body (which a refusal leaves unread). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A source's rate limit (`rateLimit` of its config), checked before the body is read: true
 * when the request may go on (its answer will carry the RateLimit-* headers); false when it
 * was answered 429. A refusal is audited (`source.rate-limited`) once per window, so a flood
 * does not flood the trail; the log counts them (throttled). Without a limit, every request
 * goes on.
 */
export function sourceRateLimit(
  config: RateLimitConfig | undefined,
  ctx: Pick<SourceContext, 'audit' | 'channelId'>,
  throttle: LogThrottle,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  if (!config) return () => true;
  const limiter = new RateLimiter({ requests: config.requests, perMs: config.per });
  let auditedWindow: number | undefined;
  return (req, res) => {
    const d = limiter.take(ctx.channelId);
    if (d.allowed) {
      setRateLimitHeaders(res, d);
      return true;
    }
    const limit = describeRateLimit(limiter);
    if (auditedWindow !== d.resetAt) {
      auditedWindow = d.resetAt;
      auditRefusal(ctx, throttle, req, 'source.rate-limited', { reason: 'rate-limit', limit });
    }
    throttle.warn('rate-limited', { channel: ctx.channelId, limit }, 'requests over the source rate limit answered 429');
    req.resume();
    // The refused body may still be arriving: the connection cannot carry the next request.
    if (hasBody(req)) res.shouldKeepAlive = false;
    sendRateLimited(res, d, limiter, 'for this source');
    return false;
  };
}
