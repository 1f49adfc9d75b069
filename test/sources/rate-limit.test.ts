/** Per-source rate limits of the webhook and REST sources, on a real engine: 429 before the body is read, headers, audit, nothing stored. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent } from '../../src/audit/event.ts';
import { auditEvent, watchAudit } from '../support/audit-events.ts';
import { makeEvent } from '../support/events.ts';
import { postWithStalledBody } from '../support/stalled-body.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';
import { restToMllpChannel } from './rest/support.ts';

type Outcome = { resourceType: string; issue: Array<{ code: string; diagnostics: string }> };

describe('per-source rate limits', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  let audit: AuditEvent[];
  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({
      'hook.yaml': webhookToMllpChannel('hook', lis.mllpPort, undefined, '\n  rateLimit:\n    requests: 3\n    per: 1m'),
      'quick.yaml': webhookToMllpChannel('quick', lis.mllpPort, undefined, '\n  rateLimit:\n    requests: 1\n    per: 1s'),
      'stall.yaml': webhookToMllpChannel('stall', lis.mllpPort, undefined, '\n  rateLimit:\n    requests: 1\n    per: 1h'),
      'subs.yaml': restToMllpChannel('subs', lis.mllpPort, { source: '  rateLimit:\n    requests: 2\n    per: 1m\n' }),
      'open.yaml': webhookToMllpChannel('open', lis.mllpPort),
    });
    audit = watchAudit(t.engine.audit);
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  async function storedCount(channel: string): Promise<number> {
    const list = (await (await t.admin(`/api/messages?channel=${channel}`)).json()) as { messages: unknown[] };
    return list.messages.length;
  }

  test('webhook: the 4th request in the window → 429 with Retry-After, RateLimit-* and an OperationOutcome; nothing stored for it', async () => {
    for (const [i, remaining] of ['2', '1', '0'].entries()) {
      const res = await t.post('/channels/hook', makeEvent(`res_RL_${i}`));
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('ratelimit-limit'), '3');
      assert.equal(res.headers.get('ratelimit-remaining'), remaining);
      assert.match(res.headers.get('ratelimit-reset') ?? '', /^\d+$/);
    }
    for (let i = 0; i < 3; i++) {
      const refused = await t.post('/channels/hook', makeEvent(`res_RL_REFUSED_${i}`));
      assert.equal(refused.status, 429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.equal(refused.headers.get('ratelimit-limit'), '3');
      assert.equal(refused.headers.get('ratelimit-remaining'), '0');
      assert.equal(refused.headers.get('ratelimit-reset'), String(retryAfter));
      const o = (await refused.json()) as Outcome;
      assert.equal(o.resourceType, 'OperationOutcome');
      assert.equal(o.issue[0]!.code, 'throttled');
      assert.equal(o.issue[0]!.diagnostics, `3 requests per 1 min for this source; try again in ${retryAfter} s`);
    }
    assert.equal(await storedCount('hook'), 3);
    // Three refusals in one window: one audit event.
    const e = await auditEvent(audit, (x) => x.action === 'source.rate-limited' && x.actor === 'source:hook');
    assert.deepEqual({ outcome: e.outcome, target: e.target, detail: e.detail }, { outcome: 'denied', target: 'channel:hook', detail: { reason: 'rate-limit', limit: '3 requests per 1 min' } });
    assert.match(e.ip ?? '', /127\.0\.0\.1/);
    assert.equal(audit.filter((x) => x.action === 'source.rate-limited' && x.actor === 'source:hook').length, 1);
    // Another source has its own limit; one without a limit sends no RateLimit headers.
    const open = await t.post('/channels/open', makeEvent('res_RL_OPEN'));
    assert.equal(open.status, 201);
    assert.equal(open.headers.get('ratelimit-limit'), null);
  });

  test('webhook: accepted again once the window is over (waiting as Retry-After says)', { timeout: 30_000 }, async () => {
    let refused: Response | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const res = await t.post('/channels/quick', makeEvent(`res_RL_QUICK_${i}`));
      if (res.status === 429) refused = res;
      else assert.equal(res.status, 201);
    }
    assert.ok(refused, 'a request was refused within the window');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.equal(retryAfter, 1);
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    const res = await t.post('/channels/quick', makeEvent('res_RL_QUICK_AFTER'));
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('ratelimit-remaining'), '0');
  });

  test('webhook: the limit is applied before the body is read (a body that never comes still gets its 429)', { timeout: 20_000 }, async () => {
    assert.equal((await t.post('/channels/stall', makeEvent('res_RL_STALL'))).status, 201);
    const answer = await postWithStalledBody(t.url, '/channels/stall');
    assert.match(answer, /^HTTP\/1\.1 429 /);
    assert.match(answer, /retry-after: \d+/i);
    assert.match(answer, /connection: close/i);
    assert.match(answer, /"code":"throttled"/);
  });

  test('REST: submissions and status reads share the source limit; the 3rd request → 429, stored nothing', async () => {
    const first = await t.post('/channels/subs/submissions', makeEvent('res_RL_REST_1'));
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('ratelimit-remaining'), '1');
    const location = first.headers.get('location')!;
    const read = await fetch(t.url + location);
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('ratelimit-remaining'), '0');
    const refused = await t.post('/channels/subs/submissions', makeEvent('res_RL_REST_2'));
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.match(((await refused.json()) as Outcome).issue[0]!.diagnostics, /^2 requests per 1 min for this source; try again in \d+ s$/);
    assert.equal((await fetch(t.url + location)).status, 429);
    assert.equal(await storedCount('subs'), 1);
    await auditEvent(audit, (x) => x.action === 'source.rate-limited' && x.actor === 'source:subs');
  });
});
