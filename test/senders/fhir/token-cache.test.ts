import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConduitError } from '../../../src/errors.ts';
import { CachedTokenProvider, type TokenGrant } from '../../../src/senders/http/auth/index.ts';

/** A token source the test resolves by hand, with a clock the test moves. */
function harness(leewayS = 30) {
  let now = 1_000_000;
  const calls: Array<{ resolve: (g: TokenGrant) => void; reject: (e: unknown) => void }> = [];
  const provider = new CachedTokenProvider(
    () =>
      new Promise<TokenGrant>((resolve, reject) => {
        calls.push({ resolve, reject });
      }),
    { leewayS, now: () => now },
  );
  return {
    provider,
    calls,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const never = new AbortController().signal;

describe('CachedTokenProvider', () => {
  it('concurrent callers share one request; the token is cached until expiry minus the leeway', async () => {
    const { provider, calls, advance } = harness(30);
    const a = provider.authorization(never);
    const b = provider.authorization(never);
    assert.equal(calls.length, 1);
    calls[0]!.resolve({ accessToken: 't1', expiresInS: 300 });
    assert.deepEqual(await Promise.all([a, b]), ['Bearer t1', 'Bearer t1']);
    advance(269_000);
    assert.equal(await provider.authorization(never), 'Bearer t1');
    advance(1_000);
    const c = provider.authorization(never);
    assert.equal(calls.length, 2, 'renewed 30 s before expiry');
    calls[1]!.resolve({ accessToken: 't2', expiresInS: 300 });
    assert.equal(await c, 'Bearer t2');
    assert.equal(provider.tokenRequests, 2);
  });

  it('a short-lived token is used for at least half its lifetime, whatever the leeway', async () => {
    const { provider, calls, advance } = harness(30);
    const a = provider.authorization(never);
    calls[0]!.resolve({ accessToken: 't1', expiresInS: 10 });
    await a;
    advance(4_999);
    assert.equal(await provider.authorization(never), 'Bearer t1');
    advance(1);
    void provider.authorization(never);
    assert.equal(calls.length, 2);
  });

  it('invalidate forgets the current token only if it is still the one refused', async () => {
    const { provider, calls } = harness();
    const a = provider.authorization(never);
    calls[0]!.resolve({ accessToken: 't1', expiresInS: undefined });
    await a;
    assert.equal(provider.invalidate('Bearer t1'), true);
    const b = provider.authorization(never);
    calls[1]!.resolve({ accessToken: 't2', expiresInS: undefined });
    assert.equal(await b, 'Bearer t2');
    // Another lane reports the old token late: t2 stays.
    provider.invalidate('Bearer t1');
    assert.equal(await provider.authorization(never), 'Bearer t2');
    assert.equal(calls.length, 2);
  });

  it('a failure reaches every waiter and is not cached', async () => {
    const { provider, calls } = harness();
    const a = provider.authorization(never);
    const b = provider.authorization(never);
    calls[0]!.reject(new ConduitError('AUTH_TOKEN_UNAVAILABLE', 'token endpoint answered 503'));
    await assert.rejects(a, { code: 'AUTH_TOKEN_UNAVAILABLE' });
    await assert.rejects(b, { code: 'AUTH_TOKEN_UNAVAILABLE' });
    const c = provider.authorization(never);
    assert.equal(calls.length, 2);
    calls[1]!.resolve({ accessToken: 't', expiresInS: 60 });
    assert.equal(await c, 'Bearer t');
  });

  it('a waiter that aborts stops waiting with HTTP_ABORTED; the request goes on for the others', async () => {
    const { provider, calls } = harness();
    const controller = new AbortController();
    const a = provider.authorization(controller.signal);
    const b = provider.authorization(never);
    controller.abort();
    await assert.rejects(a, { code: 'HTTP_ABORTED' });
    calls[0]!.resolve({ accessToken: 't', expiresInS: 60 });
    assert.equal(await b, 'Bearer t');
    assert.equal(calls.length, 1);
  });
});
