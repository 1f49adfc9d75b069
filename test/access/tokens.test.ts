/**
 * Issue 11: named tokens. Made by the CLI or the API, shown once, stored hashed; a revoked or
 * expired token is refused with why, and the refusal recorded; per-token rate limits.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hashToken } from '../../src/access/tokens.ts';
import { conduit } from '../cli/support.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';

/** One channel that only stores what it gets (the engine wants at least one). */
const CHANNELS = { 'inbox.yaml': 'id: inbox\nsource:\n  type: webhook\n' };
const json = { 'content-type': 'application/json' };
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

async function audit(t: TestEngine, query: string): Promise<Array<{ action: string; outcome: string; actor: string; target?: string; detail?: Record<string, unknown> }>> {
  return ((await (await t.admin(`/api/audit?${query}`)).json()) as { events: [] }).events;
}

describe('named tokens', () => {
  test('the CLI makes a token the running engine accepts at once; revoking it stops it at the next request', async (t) => {
    const e = await startTestEngine(CHANNELS);
    t.after(() => e.stop());
    const data = join(e.dir, 'data');
    const made = conduit(['token', 'create', '--name', 'lab-ops', '--role', 'operator', '--expires', '90d', '--data', data, '--json']);
    assert.equal(made.status, 0, made.stderr);
    const created = JSON.parse(made.stdout) as { id: string; token: string; role: string; expiresAt: string; state: string };
    assert.match(created.token, /^cdt_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.state, 'active');
    assert.ok(Date.parse(created.expiresAt) > Date.now() + 89 * 86_400_000);
    // Only the hash is stored.
    const file = Buffer.concat(['access.db', 'access.db-wal'].filter((f) => existsSync(join(data, f))).map((f) => readFileSync(join(data, f))));
    assert.equal(file.includes(created.token), false);
    assert.equal(file.includes(hashToken(created.token)), true);

    assert.equal((await fetch(`${e.url}/api/messages`, { headers: bearer(created.token) })).status, 200);
    assert.equal((await fetch(`${e.url}/api/tokens`, { headers: bearer(created.token) })).status, 403);

    const revoked = conduit(['token', 'revoke', 'lab-ops', '--data', data]);
    assert.equal(revoked.status, 0, revoked.stderr);
    const refused = await fetch(`${e.url}/api/messages`, { headers: bearer(created.token) });
    assert.equal(refused.status, 401);
    assert.match(await refused.text(), /token 'lab-ops' was revoked at/);
    assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_token/);
    const failed = await audit(e, 'action=auth.failed');
    assert.ok(failed.some((x) => x.actor === 'lab-ops' && /revoked/.test(String(x.detail?.reason))));
    const changes = await audit(e, 'action=token.');
    assert.deepEqual(
      changes.map((x) => [x.action, x.actor.startsWith('cli'), x.target]),
      [
        ['token.revoke', true, `token:${created.id}`],
        ['token.create', true, `token:${created.id}`],
      ],
    );
    const list = conduit(['token', 'list', '--data', data]);
    assert.match(list.stdout, /lab-ops {2}operator {2}revoked/);
    assert.equal(list.stdout.includes(created.token), false);
  });

  test('the API: created once with its secret, listed without it; bad requests say which field', async (t) => {
    const e = await startTestEngine(CHANNELS);
    t.after(() => e.stop());
    const res = await e.admin('/api/tokens', { method: 'POST', headers: json, body: JSON.stringify({ name: 'ehr-team', role: 'integrator', tenant: 'north' }) });
    assert.equal(res.status, 201);
    const made = (await res.json()) as { token: string; id: string };
    const listed = await (await e.admin('/api/tokens')).text();
    assert.ok(listed.includes(made.id));
    assert.ok(!listed.includes(made.token) && !listed.includes(hashToken(made.token)), 'neither the secret nor its hash is listed');

    const again = await e.admin('/api/tokens', { method: 'POST', headers: json, body: JSON.stringify({ name: 'ehr-team', role: 'viewer' }) });
    assert.equal(again.status, 409);
    assert.match(await again.text(), /TOKEN_NAME_TAKEN/);
    const badRole = await e.admin('/api/tokens', { method: 'POST', headers: json, body: JSON.stringify({ name: 'x', role: 'root' }) });
    assert.equal(badRole.status, 422);
    assert.match(await badRole.text(), /body\.role: expected role 'viewer', 'operator', 'integrator' or 'admin'/);
    const tenantAdmin = await e.admin('/api/tokens', { method: 'POST', headers: json, body: JSON.stringify({ name: 'y', role: 'admin', tenant: 'north' }) });
    assert.equal(tenantAdmin.status, 422);
    assert.match(await tenantAdmin.text(), /body\.tenant: an admin token manages every tenant/);
    const notJson = await e.admin('/api/tokens', { method: 'POST', headers: json, body: '{"name":' });
    assert.equal(notJson.status, 400);

    const gone = await e.admin(`/api/tokens/${made.id}`, { method: 'DELETE' });
    assert.equal(gone.status, 200);
    assert.equal(((await gone.json()) as { state: string }).state, 'revoked');
    assert.equal((await e.admin('/api/tokens/tok_nothing', { method: 'DELETE' })).status, 404);
  });

  test('an expired token is refused with when it expired', async (t) => {
    const e = await startTestEngine(CHANNELS);
    t.after(() => e.stop());
    const secret = 'cdt_expired-token-for-the-test-0123456789abcdef';
    await e.engine.access.insertToken(
      { id: 'tok_old', name: 'old', role: 'viewer', createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'test', expiresAt: '2026-02-01T00:00:00.000Z' },
      hashToken(secret),
    );
    const res = await fetch(`${e.url}/api/channels`, { headers: bearer(secret) });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /token 'old' expired at 2026-02-01T00:00:00.000Z/);
    const unknown = await fetch(`${e.url}/api/channels`, { headers: bearer('cdt_not-a-token-at-all') });
    assert.equal(unknown.status, 401);
    assert.match(await unknown.text(), /the bearer token is not valid/);
    const failed = await audit(e, 'action=auth.failed');
    assert.deepEqual(
      failed.map((x) => x.actor),
      ['anonymous', 'old'],
    );
  });

  test('per-token rate limit: 429 with Retry-After and RateLimit headers, recorded once per window', async (t) => {
    const e = await startTestEngine(CHANNELS, { apiRateLimit: 3 });
    t.after(() => e.stop());
    const made = (await (await e.admin('/api/tokens', { method: 'POST', headers: json, body: JSON.stringify({ name: 'busy', role: 'viewer' }) })).json()) as {
      token: string;
    };
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await fetch(`${e.url}/api/channels`, { headers: bearer(made.token) }));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 429, 429],
    );
    assert.equal(answers[0]!.headers.get('ratelimit-limit'), '3');
    assert.equal(answers[0]!.headers.get('ratelimit-remaining'), '2');
    assert.ok(Number(answers[3]!.headers.get('retry-after')) >= 1);
    assert.match(await answers[3]!.text(), /3 requests per 1 min for this token; try again in \d+ s/);
    // Another token has its own window.
    assert.equal((await e.admin('/api/channels')).status, 200);
    const limited = await audit(e, 'action=api.rate-limited');
    assert.equal(limited.length, 1);
    assert.equal(limited[0]!.actor, 'busy');
  });

  test('guessing tokens from one address is slowed to 30 a minute', async (t) => {
    const e = await startTestEngine(CHANNELS);
    t.after(() => e.stop());
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await fetch(`${e.url}/api/channels`, { headers: bearer(`cdt_guess_${i}`) })).status);
    assert.deepEqual(statuses.slice(28), [401, 401, 429, 429]);
    // The bootstrap admin from the same address still works.
    assert.equal((await e.admin('/api/channels')).status, 200);
  });
});
