import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../../support/events.ts';
import { startTestEngine, type TestEngine } from '../../support/in-process.ts';
import { type Accepted, envRef, type Outcome, restToMllpChannel } from './support.ts';

const TOKEN = 'submitter-token-0123456789abcdef';
const ROTATED = 'submitter-token-next-0123456789ab';
const API_KEY = 'partner-api-key-0123456789abcdef';

describe('REST submitters authenticate with a static bearer token or API key from the environment', () => {
  let t: TestEngine;
  before(async () => {
    process.env.TEST_REST_TOKEN = TOKEN;
    process.env.TEST_REST_TOKEN_NEXT = ROTATED;
    process.env.TEST_REST_API_KEY = API_KEY;
    t = await startTestEngine({
      'bearer.yaml': restToMllpChannel('bearer', 1, {
        source: `  auth:\n    type: bearer\n    tokens: ["${envRef('TEST_REST_TOKEN')}", "${envRef('TEST_REST_TOKEN_NEXT')}"]\n`,
      }),
      'keyed.yaml': restToMllpChannel('keyed', 1, { source: `  auth:\n    type: api-key\n    header: x-api-key\n    keys: ["${envRef('TEST_REST_API_KEY')}"]\n` }),
    });
  });
  after(async () => {
    await t.stop();
    delete process.env.TEST_REST_TOKEN;
    delete process.env.TEST_REST_TOKEN_NEXT;
    delete process.env.TEST_REST_API_KEY;
  });

  test('bearer: no token or a wrong one is 401 with a challenge, nothing stored; either configured token is accepted', async () => {
    const before = (await t.engine.store.listMessages({ limit: 500 })).messages.length;
    const none = await t.post('/channels/bearer/submissions', makeEvent('res_AUTH_1'));
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="conduit"');
    const oo = (await none.json()) as Outcome;
    assert.equal(oo.issue[0]!.code, 'login');
    assert.match(oo.issue[0]!.diagnostics, /^\(header Authorization\): a bearer token is required/);
    const wrong = await t.post('/channels/bearer/submissions', makeEvent('res_AUTH_1'), { authorization: `Bearer ${TOKEN}x` });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="conduit", error="invalid_token"');
    assert.doesNotMatch(await wrong.text(), new RegExp(TOKEN), 'the token is not echoed');
    assert.equal((await t.engine.store.listMessages({ limit: 500 })).messages.length, before);
    for (const token of [TOKEN, ROTATED]) {
      const ok = await t.post('/channels/bearer/submissions', makeEvent(`res_AUTH_${token.length}`), { authorization: `Bearer ${token}` });
      assert.equal(ok.status, 202);
    }
  });

  test('bearer: polling needs the token too', async () => {
    const ok = await t.post('/channels/bearer/submissions', makeEvent('res_AUTH_POLL'), { authorization: `Bearer ${TOKEN}` });
    const { location } = (await ok.json()) as Accepted;
    assert.equal((await fetch(t.url + location)).status, 401);
    assert.equal((await fetch(t.url + location, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  });

  test('api-key: the key in the configured header', async () => {
    assert.equal((await t.post('/channels/keyed/submissions', makeEvent('res_AUTH_K1'))).status, 401);
    const wrong = await t.post('/channels/keyed/submissions', makeEvent('res_AUTH_K1'), { 'x-api-key': 'nope' });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as Outcome).issue[0]!.diagnostics, /^\(header x-api-key\): the API key is not valid/);
    assert.equal((await t.post('/channels/keyed/submissions', makeEvent('res_AUTH_K1'), { 'x-api-key': API_KEY })).status, 202);
  });

  test('a large body without credentials is refused at once, before it is read', async () => {
    const res = await t.post('/channels/bearer/submissions', { pad: 'x'.repeat(2_000_000) });
    assert.equal(res.status, 401);
  });
});
