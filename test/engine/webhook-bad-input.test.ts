import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { postWithStalledBody } from '../support/stalled-body.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';

type Outcome = { resourceType: string; issue: Array<{ severity: string; code: string; diagnostics: string; expression?: string[] }> };

const SECRET = 'test-webhook-secret-0123456789';

describe('webhook source: bad input gets its specific 4xx and the channel keeps working', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis();
    process.env.TEST_WEBHOOK_SECRET = SECRET;
    t = await startTestEngine({
      'plain.yaml': webhookToMllpChannel('plain', lis.mllpPort, undefined, '\n  maxBodyBytes: 4096'),
      // An ${ENV} reference in the channel file, resolved by the loader (not a template string).
      'signed.yaml': webhookToMllpChannel('signed', lis.mllpPort, undefined, '\n  hmac:\n    header: X-Signature\n    secret: $' + '{TEST_WEBHOOK_SECRET}'),
    });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  async function expectOutcome(res: Response, status: number): Promise<Outcome> {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /json/);
    const body = (await res.json()) as Outcome;
    assert.equal(body.resourceType, 'OperationOutcome');
    assert.ok(body.issue.length > 0);
    return body;
  }

  test('malformed JSON → 400 naming the body', async () => {
    const o = await expectOutcome(await t.post('/channels/plain', '{"event": "result.created", '), 400);
    assert.equal(o.issue[0]!.code, 'structure');
    assert.match(o.issue[0]!.diagnostics, /not valid JSON/);
  });

  test('wrong types → 422 naming each field', async () => {
    const e = makeEvent('res_BAD_TYPES') as { result: { observations: Array<Record<string, unknown>>; version: unknown } };
    e.result.observations[1]!.value = 6.1;
    e.result.version = 'two';
    const o = await expectOutcome(await t.post('/channels/plain', e), 422);
    const paths = o.issue.flatMap((i) => i.expression ?? []);
    assert.ok(paths.includes('result.observations[1].value'), JSON.stringify(o));
    assert.ok(paths.includes('result.version'), JSON.stringify(o));
    assert.match(o.issue.find((i) => i.expression?.[0] === 'result.observations[1].value')!.diagnostics, /as a string/);
  });

  test('missing fields → 422 with code required', async () => {
    const o = await expectOutcome(await t.post('/channels/plain', { event: 'result.created', result: { status: 'final', analyte: 'GLU', value: '5' } }), 422);
    assert.deepEqual(o.issue.map((i) => i.expression?.[0]), ['result.id']);
    const o2 = await expectOutcome(await t.post('/channels/plain', { result: { id: 'x', status: 'final' } }), 422);
    assert.ok(o2.issue.some((i) => i.expression?.[0] === 'event'));
  });

  test('an unknown status and an updated event without version are refused specifically', async () => {
    const e = makeEvent('res_BAD_STATUS') as { result: { status: string } };
    e.result.status = 'done-ish';
    const o = await expectOutcome(await t.post('/channels/plain', e), 422);
    assert.match(o.issue[0]!.diagnostics, /result\.status: unknown status 'done-ish'/);
    const u = makeEvent('res_NO_VERSION', { event: 'result.updated' }) as { result: { version?: number } };
    u.result.version = undefined;
    const o2 = await expectOutcome(await t.post('/channels/plain', u), 422);
    assert.deepEqual(o2.issue[0]!.expression, ['result.version']);
  });

  test('oversize body → 413', async () => {
    const o = await expectOutcome(await t.post('/channels/plain', JSON.stringify({ pad: 'x'.repeat(10_000) })), 413);
    assert.match(o.issue[0]!.diagnostics, /4096 bytes/);
  });

  test('wrong content type → 415; GET → 405', async () => {
    await expectOutcome(await t.post('/channels/plain', JSON.stringify(makeEvent('res_CT')), { 'content-type': 'text/plain' }), 415);
    const res = await fetch(`${t.url}/channels/plain`);
    assert.equal(res.status, 405);
  });

  test('bad or missing signature → 401; a valid one is accepted', async () => {
    const body = JSON.stringify(makeEvent('res_SIGNED_1'));
    await expectOutcome(await t.post('/channels/signed', body), 401);
    await expectOutcome(await t.post('/channels/signed', body, { 'x-signature': 'sha256=00' }), 401);
    const wrong = createHmac('sha256', 'another-secret-entirely').update(body).digest('hex');
    await expectOutcome(await t.post('/channels/signed', body, { 'x-signature': `sha256=${wrong}` }), 401);
    const good = createHmac('sha256', SECRET).update(body).digest('hex');
    const res = await t.post('/channels/signed', body, { 'x-signature': `sha256=${good}` });
    assert.equal(res.status, 201);
  });

  test('a signature with anything besides exactly 64 hex digits is refused (sha256=<hex>junk, issue 8)', async () => {
    const body = JSON.stringify(makeEvent('res_SIGNED_JUNK'));
    const good = createHmac('sha256', SECRET).update(body).digest('hex');
    // Buffer.from(x, 'hex') stops at the first non-hex character: each of these decoded to the good digest.
    for (const signature of [`sha256=${good}junk`, `sha256=${good}0`, `sha256=${good}zz00`, `sha256=${good} 00`]) {
      const o = await expectOutcome(await t.post('/channels/signed', body, { 'x-signature': signature }), 401);
      assert.equal(o.issue[0]!.code, 'security');
    }
    const upper = await t.post('/channels/signed', body, { 'x-signature': `sha256=${good.toUpperCase()}` });
    assert.equal(upper.status, 201, 'upper-case hex digits are a digest too');
  });

  test('a missing signature is refused before the body is read: a body that never comes still gets its 401', { timeout: 20_000 }, async () => {
    const answer = await postWithStalledBody(t.url, '/channels/signed');
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.match(answer, /connection: close/i);
    assert.match(answer, /"code":"security"/);
  });

  test('after all that, the channel still takes and delivers a good event', async () => {
    const res = await t.post('/channels/plain', makeEvent('res_AFTER_BAD'));
    assert.equal(res.status, 201);
    await t.drained();
    const { messageId } = (await res.json()) as { messageId: string };
    const view = (await (await t.admin(`/api/messages/${messageId}`)).json()) as { status: string };
    assert.equal(view.status, 'acknowledged');
    // Nothing refused was stored.
    const all = (await (await t.admin('/api/messages?channel=plain')).json()) as { messages: unknown[] };
    assert.equal(all.messages.length, 1);
  });
});

test('sources push back with 503 + Retry-After when the backlog is over its bound', async () => {
  // A destination nobody listens on: deliveries stay pending.
  const t = await startTestEngine({ 'down.yaml': webhookToMllpChannel('down', 9, 'maxAttempts: 100\n      initialBackoffMs: 60000') }, { maxBacklog: 2 });
  after(() => t.stop());
  assert.equal((await t.post('/channels/down', makeEvent('res_BP_1'))).status, 201);
  assert.equal((await t.post('/channels/down', makeEvent('res_BP_2'))).status, 201);
  const res = await t.post('/channels/down', makeEvent('res_BP_3'));
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '5');
  const health = (await (await t.admin("/health")).json()) as { status: string; components: Record<string, string> };
  assert.equal(health.status, 'degraded');
  assert.equal(health.components.backlog, 'degraded');
});
