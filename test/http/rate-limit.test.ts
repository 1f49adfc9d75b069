/** The fixed-window limiter, driven by an injected clock, and its answers on raw node:http and express. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { describeRateLimit, formatWindow, RateLimiter, sendRateLimited, setRateLimitHeaders } from '../../src/http/rate-limit.ts';

test('N requests per window are allowed, the N+1-th is refused until the window ends', () => {
  let now = 1_000_000;
  const limiter = new RateLimiter({ requests: 3, perMs: 1000, now: () => now });
  assert.deepEqual(
    [1, 2, 3].map(() => limiter.take('a')),
    [
      { allowed: true, limit: 3, remaining: 2, resetSeconds: 1, retryAfterSeconds: 0, resetAt: 1_001_000 },
      { allowed: true, limit: 3, remaining: 1, resetSeconds: 1, retryAfterSeconds: 0, resetAt: 1_001_000 },
      { allowed: true, limit: 3, remaining: 0, resetSeconds: 1, retryAfterSeconds: 0, resetAt: 1_001_000 },
    ],
  );
  now += 400;
  assert.deepEqual(limiter.take('a'), { allowed: false, limit: 3, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1, resetAt: 1_001_000 });
  now += 599;
  assert.equal(limiter.take('a').allowed, false, 'the last millisecond of the window');
  now += 1;
  const next = limiter.take('a');
  assert.equal(next.allowed, true, 'a new window');
  assert.equal(next.remaining, 2);
  assert.equal(next.resetAt, 1_002_000);
});

test('refused requests do not count; keys are independent', () => {
  let now = 0;
  const limiter = new RateLimiter({ requests: 1, perMs: 60_000, now: () => now });
  assert.equal(limiter.take('a').allowed, true);
  for (let i = 0; i < 5; i++) assert.equal(limiter.take('a').allowed, false);
  assert.equal(limiter.take('b').allowed, true);
  now = 59_000;
  const last = limiter.take('a');
  assert.equal(last.retryAfterSeconds, 1);
  now = 60_000;
  assert.equal(limiter.take('a').allowed, true);
});

test('Retry-After and RateLimit-Reset round up to whole seconds', () => {
  const limiter = new RateLimiter({ requests: 1, perMs: 90_000, now: () => 0 });
  limiter.take('a', 0);
  const refused = limiter.take('a', 500);
  assert.equal(refused.resetSeconds, 90);
  assert.equal(refused.retryAfterSeconds, 90);
  assert.equal(limiter.take('a', 89_001).retryAfterSeconds, 1);
});

test('memory is bounded: ended windows are dropped, and at most maxKeys are kept', () => {
  let now = 0;
  const limiter = new RateLimiter({ requests: 1, perMs: 1000, maxKeys: 100, now: () => now });
  for (let i = 0; i < 50; i++) limiter.take(`k${i}`);
  assert.equal(limiter.size, 50);
  now = 1000;
  limiter.take('late');
  assert.equal(limiter.size, 1, 'the 50 ended windows were dropped');
  for (let i = 0; i < 500; i++) limiter.take(`flood${i}`);
  assert.equal(limiter.size, 100);
  // The key forgotten first is the one whose window ends first.
  assert.equal(limiter.take('late').allowed, true);
});

test('the limit as the diagnostics say it', () => {
  assert.equal(describeRateLimit({ requests: 100, perMs: 1000 }), '100 requests per 1 s');
  assert.equal(describeRateLimit({ requests: 1, perMs: 60_000 }), '1 request per 1 min');
  assert.deepEqual([90_000, 3_600_000, 86_400_000].map(formatWindow), ['90 s', '1 h', '1 d']);
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** One handler for both stacks: headers on every answer, 429 over the limit. */
function limitedHandler(limiter: RateLimiter) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    const d = limiter.take('client');
    if (!d.allowed) return sendRateLimited(res, d, limiter, 'for this client');
    setRateLimitHeaders(res, d);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  };
}

for (const stack of ['node:http', 'express'] as const) {
  test(`${stack}: RateLimit-* on every answer; 429 with Retry-After and an OperationOutcome over the limit`, async (t) => {
    const limiter = new RateLimiter({ requests: 2, perMs: 60_000 });
    const handler = limitedHandler(limiter);
    const server = stack === 'express' ? createServer(express().get('/', handler)) : createServer(handler);
    const url = await listen(server);
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const first = await fetch(url);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('ratelimit-limit'), '2');
    assert.equal(first.headers.get('ratelimit-remaining'), '1');
    assert.match(first.headers.get('ratelimit-reset') ?? '', /^(59|60)$/);
    await first.text();
    assert.equal((await fetch(url)).headers.get('ratelimit-remaining'), '0');
    const refused = await fetch(url);
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('retry-after') ?? '', /^(59|60)$/);
    assert.equal(refused.headers.get('ratelimit-remaining'), '0');
    assert.equal(refused.headers.get('ratelimit-reset'), refused.headers.get('retry-after'));
    const outcome = (await refused.json()) as { resourceType: string; issue: Array<{ code: string; diagnostics: string }> };
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.equal(outcome.issue[0]!.code, 'throttled');
    assert.equal(outcome.issue[0]!.diagnostics, `2 requests per 1 min for this client; try again in ${refused.headers.get('retry-after')} s`);
  });
}
