import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../../support/events.ts';
import { startTestEngine, type TestEngine } from '../../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../../support/sandbox.ts';
import { type Accepted, type Outcome, pollUntil, restToMllpChannel } from './support.ts';

describe('Idempotency-Key', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({
      'rest.yaml': restToMllpChannel('rest', lis.mllpPort),
      // Stored as received: the key is all that tells a repeat from a new submission.
      'raw.yaml': 'id: raw\nsource:\n  type: rest\n',
    });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  const submit = (path: string, body: unknown, key: string) => t.post(path, body, { 'idempotency-key': key });

  test('the same key and body again: 200, the same submission id, sent once', async () => {
    const key = randomUUID();
    const event = makeEvent('res_IDEM_REPEAT');
    const first = await submit('/channels/rest/submissions', event, key);
    assert.equal(first.status, 202);
    const a = (await first.json()) as Accepted;
    await pollUntil(t, a.location, (v) => v.status === 'acknowledged');
    const again = await submit('/channels/rest/submissions', event, key);
    assert.equal(again.status, 200);
    const b = (await again.json()) as Accepted;
    assert.deepEqual(b, { ...a, duplicate: true });
    assert.equal(again.headers.get('location'), a.location);
    const view = await pollUntil(t, a.location, () => true);
    assert.equal(view.idempotencyKey, key);
    await t.drained();
    assert.equal((await sandboxMessages(lis)).filter((m) => m.includes('res_IDEM_REPEAT')).length, 1, 'the LIS got it once');
  });

  test('the same key with another body: 409 OperationOutcome, nothing stored', async () => {
    const key = randomUUID();
    const first = await submit('/channels/rest/submissions', makeEvent('res_IDEM_CONFLICT'), key);
    assert.equal(first.status, 202);
    const before = (await t.engine.store.listMessages({ channelId: 'rest', limit: 500 })).messages.length;
    const other = await submit('/channels/rest/submissions', makeEvent('res_IDEM_CONFLICT_OTHER'), key);
    assert.equal(other.status, 409);
    assert.match(other.headers.get('content-type') ?? '', /application\/json/);
    const oo = (await other.json()) as Outcome;
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.equal(oo.issue[0]!.code, 'conflict');
    assert.match(oo.issue[0]!.diagnostics, /Idempotency-Key .* different body/);
    assert.equal((await t.engine.store.listMessages({ channelId: 'rest', limit: 500 })).messages.length, before);
  });

  test('a key is per channel: the same key on another channel is a new submission there', async () => {
    const key = randomUUID();
    assert.equal((await submit('/channels/rest/submissions', makeEvent('res_IDEM_PER_CHANNEL'), key)).status, 202);
    assert.equal((await submit('/channels/raw/submissions', { any: 'json' }, key)).status, 202);
  });

  test('concurrent requests with one key and body (a client retrying a slow request): one message, one submission id', async () => {
    const key = randomUUID();
    const body = { note: 'stored as received', n: 1 };
    const answers = await Promise.all(Array.from({ length: 5 }, () => submit('/channels/raw/submissions', body, key)));
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 202]);
    const ids = new Set(await Promise.all(answers.map(async (r) => ((await r.json()) as Accepted).submissionId)));
    assert.equal(ids.size, 1);
    const stored = (await t.engine.store.listMessages({ channelId: 'raw', limit: 500 })).messages.filter((m) => m.sourceId === `idempotency-key:${key}`);
    assert.equal(stored.length, 1);
  });

  test('without a mapping, a new key is a new message even for the same body', async () => {
    const body = { note: 'same body, new key' };
    const a = (await (await submit('/channels/raw/submissions', body, randomUUID())).json()) as Accepted;
    const b = (await (await submit('/channels/raw/submissions', body, randomUUID())).json()) as Accepted;
    assert.notEqual(a.submissionId, b.submissionId);
  });

  test('with a mapping, a new key for an already-stored event finds that message (200, duplicate)', async () => {
    const event = makeEvent('res_IDEM_NEW_KEY');
    const a = (await (await submit('/channels/rest/submissions', event, randomUUID())).json()) as Accepted;
    const res = await submit('/channels/rest/submissions', event, randomUUID());
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as Accepted).submissionId, a.submissionId);
  });

  test('a malformed key: 400 naming the header', async () => {
    const res = await submit('/channels/rest/submissions', makeEvent('res_IDEM_BAD_KEY'), 'x'.repeat(256));
    assert.equal(res.status, 400);
    const oo = (await res.json()) as Outcome;
    assert.match(oo.issue[0]!.diagnostics, /^\(header Idempotency-Key\): /);
  });

  test('the key survives a restart: a repeat after it still answers the same submission', async () => {
    const key = randomUUID();
    const event = makeEvent('res_IDEM_RESTART');
    const dataDir = `${t.dir}/restart-data`;
    const channels = { 'rest.yaml': restToMllpChannel('rest', lis.mllpPort) };
    const one = await startTestEngine(channels, { dataDir });
    const a = (await (await one.post('/channels/rest/submissions', event, { 'idempotency-key': key })).json()) as Accepted;
    await one.stop();
    const two = await startTestEngine(channels, { dataDir });
    try {
      const res = await two.post('/channels/rest/submissions', event, { 'idempotency-key': key });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as Accepted).submissionId, a.submissionId);
      const conflict = await two.post('/channels/rest/submissions', makeEvent('res_IDEM_RESTART_2'), { 'idempotency-key': key });
      assert.equal(conflict.status, 409);
    } finally {
      await two.stop();
    }
  });
});
