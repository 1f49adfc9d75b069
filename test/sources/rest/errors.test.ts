import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../../support/events.ts';
import { startTestEngine, type TestEngine } from '../../support/in-process.ts';
import { type Accepted, type Outcome, restToMllpChannel } from './support.ts';

/** Nothing listens on port 1: the deliveries stay queued, which these tests do not look at. */
const NO_LIS = 1;

describe('REST submissions: bad input, unknown ids, size and methods', () => {
  let t: TestEngine;
  before(async () => {
    t = await startTestEngine({ 'rest.yaml': restToMllpChannel('rest', NO_LIS, { source: '  maxBodyBytes: 4096\n' }) });
  });
  after(() => t.stop());

  const outcomeOf = async (res: Response) => {
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const oo = (await res.json()) as Outcome;
    assert.equal(oo.resourceType, 'OperationOutcome');
    return oo;
  };

  test('not JSON: 400 with an OperationOutcome on the body', async () => {
    const res = await t.post('/channels/rest/submissions', '{"event": ');
    assert.equal(res.status, 400);
    const oo = await outcomeOf(res);
    assert.equal(oo.issue[0]!.code, 'structure');
    assert.match(oo.issue[0]!.diagnostics, /^\(body\): not valid JSON/);
  });

  test('JSON that is not an object: 422', async () => {
    const res = await t.post('/channels/rest/submissions', '[1, 2]');
    assert.equal(res.status, 422);
    assert.match((await outcomeOf(res)).issue[0]!.diagnostics, /expected a JSON object/);
  });

  test('a missing field: 422 naming it', async () => {
    const event = makeEvent('res_REST_BAD');
    delete (event.result as Record<string, unknown>).status;
    const res = await t.post('/channels/rest/submissions', event);
    assert.equal(res.status, 422);
    const oo = await outcomeOf(res);
    assert.deepEqual(oo.issue.map((i) => i.expression), [['result.status']]);
    assert.equal(oo.issue[0]!.details?.text, 'INPUT_INVALID');
  });

  test('a bad value deep in the body: 422 naming its path', async () => {
    const event = makeEvent('res_REST_BAD_VALUE');
    (event.result as { observations: Array<Record<string, unknown>> }).observations[1]!.value = 5.4;
    const res = await t.post('/channels/rest/submissions', event);
    assert.equal(res.status, 422);
    const oo = await outcomeOf(res);
    assert.deepEqual(oo.issue[0]!.expression, ['result.observations[1].value']);
  });

  test('base64 that is not base64: 422 naming the document', async () => {
    const event = makeEvent('res_REST_BAD_PDF');
    (event.result as Record<string, unknown>).documents = [{ content_type: 'application/pdf', data_base64: 'not base64!' }];
    const res = await t.post('/channels/rest/submissions', event);
    assert.equal(res.status, 422);
    assert.deepEqual((await outcomeOf(res)).issue[0]!.expression, ['result.documents[0].data_base64']);
  });

  test('another content type: 415', async () => {
    const res = await fetch(`${t.url}/channels/rest/submissions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(res.status, 415);
    assert.match((await outcomeOf(res)).issue[0]!.diagnostics, /Content-Type/);
  });

  test('a body over maxBodyBytes: 413, nothing stored', async () => {
    const before = (await t.engine.store.listMessages({ limit: 500 })).messages.length;
    const event = makeEvent('res_REST_BIG');
    (event.result as Record<string, unknown>).documents = [{ content_type: 'application/pdf', data_base64: 'A'.repeat(8192) }];
    const res = await t.post('/channels/rest/submissions', event);
    assert.equal(res.status, 413);
    assert.equal((await outcomeOf(res)).issue[0]!.code, 'too-costly');
    assert.equal((await t.engine.store.listMessages({ limit: 500 })).messages.length, before);
  });

  test('an unknown submission id: 404 OperationOutcome', async () => {
    for (const id of ['01JZZZZZZZZZZZZZZZZZZZZZZZ', 'no-such-id', '%E0%A4%A']) {
      const res = await fetch(`${t.url}/channels/rest/submissions/${id}`);
      assert.equal(res.status, 404, id);
      assert.equal((await outcomeOf(res)).issue[0]!.code, 'not-found');
    }
  });

  test("another channel's submission id is unknown here", async () => {
    const other = await startTestEngine({
      'a.yaml': restToMllpChannel('a', NO_LIS),
      'b.yaml': restToMllpChannel('b', NO_LIS),
    });
    try {
      const { submissionId } = (await (await other.post('/channels/a/submissions', makeEvent('res_REST_A'))).json()) as Accepted;
      assert.equal((await fetch(`${other.url}/channels/a/submissions/${submissionId}`)).status, 200);
      assert.equal((await fetch(`${other.url}/channels/b/submissions/${submissionId}`)).status, 404);
    } finally {
      await other.stop();
    }
  });

  test('the status read is audited', async () => {
    const { location, submissionId } = (await (await t.post('/channels/rest/submissions', makeEvent('res_REST_AUDIT'))).json()) as Accepted;
    await fetch(t.url + location);
    await t.engine.audit.settled();
    const { events } = (await (await t.admin('/api/audit?action=submission.read')).json()) as { events: Array<{ target: string; outcome: string; actor: string }> };
    const row = events.find((e) => e.target === `submission:${submissionId}`);
    assert.ok(row, 'an audit row names the submission');
    assert.equal(row.outcome, 'success');
    assert.equal(row.actor, 'source:rest');
  });

  test('wrong methods: 405 with Allow', async () => {
    const get = await fetch(`${t.url}/channels/rest/submissions`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    await outcomeOf(get);
    const post = await t.post('/channels/rest/submissions/01JZZZZZZZZZZZZZZZZZZZZZZZ', {});
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
  });
});
