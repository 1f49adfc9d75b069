/**
 * Seed 002: the c19t-results sample channel (platform webhooks → C19T Connect results API),
 * loaded from channels/ and pointed at the results API sandbox, which runs its own OAuth2 token
 * endpoint and checks every body, enum and multipart upload.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ResultsApiPeer, SANDBOX_C19T, startResultsApi } from '../peers/partners/index.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { deliver, exchanges, fixture, resend, sampleChannel, withResult } from './support.ts';

describe('results API (seed 002) through the c19t-results sample channel', () => {
  let api: ResultsApiPeer;
  let t: TestEngine;
  before(async () => {
    api = await startResultsApi();
    const at =
      (secret: string) =>
      (_c: Record<string, unknown>, s: Record<string, unknown>) => {
        s['baseUrl'] = api.url;
        s['auth'] = { ...(s['auth'] as object), tokenUrl: api.tokenUrl, clientSecret: secret };
      };
    t = await startTestEngine({
      'c19t-results.yaml': sampleChannel('c19t-results', at(SANDBOX_C19T.secret)),
      'c19t-bad-secret.yaml': sampleChannel('c19t-results', at('not-the-app-secret'), 'c19t-bad-secret'),
    });
  });
  after(async () => {
    await t?.stop();
    await api?.close();
  });

  const antigen = fixture('sars2-antigen-negative');
  const testCodeOf = (e: { result: Record<string, unknown> }) => e.result['accession'] as string;

  test('the app logs in with client_id organizationID:appID (HTTP Basic, form-encoded) and the token is reused', async () => {
    api.checkIn([testCodeOf(antigen)]);
    const m = await deliver(t, '/channels/c19t-results', antigen);
    assert.equal(m.deliveries[0]!.status, 'acknowledged', JSON.stringify(m.deliveries[0]!.attempts));
    assert.deepEqual(api.tokenRequests, [{ clientId: 'org-sandbox:app-conduit', status: 200, authMethod: 'client_secret_basic' }]);
    const tokenCall = api.requests.find((r) => r.path === '/connect/token')!;
    const basic = Buffer.from(String(tokenCall.headers.authorization).replace(/^Basic /, ''), 'base64').toString();
    assert.equal(basic, 'org-sandbox%3Aapp-conduit:sandbox-c19t-app-secret');
    const test1 = api.tests.get(testCodeOf(antigen))!;
    assert.equal(test1.result, 'negative');
    assert.deepEqual(test1.metafields, { analyte: 'SARS2-AG', observedAt: '2026-11-21T11:01:40+01:00' });
    assert.equal(test1.notified, true);
  });

  test('an intermediate state, then the PCR result with its cycle threshold and the PDF report as multipart', async () => {
    const pcr = fixture('sars2-pcr-positive-ct-pdf');
    api.checkIn([testCodeOf(pcr)]);
    const pre = await deliver(t, '/channels/c19t-results', fixture('sars2-pcr-preliminary'));
    assert.equal(pre.deliveries[0]!.attempts[0]!.detail, '1 request: intermediate-state POST 201');
    const m = await deliver(t, '/channels/c19t-results', pcr);
    assert.equal(m.deliveries[0]!.status, 'acknowledged', JSON.stringify(m.deliveries[0]!.attempts));
    assert.equal(m.deliveries[0]!.attempts[0]!.detail, '2 requests: test-result POST 201, pdf-report POST 201');
    const test2 = api.tests.get(testCodeOf(pcr))!;
    assert.deepEqual(test2.states, [{ customMessage: 'Laboratory started processing the test' }]);
    assert.equal(test2.result, 'positive');
    assert.deepEqual(test2.metafields, { cycleTreshold: '24.3', analyte: 'SARS2-PCR', observedAt: '2026-11-21T15:29:12+01:00' });
    const pdf = Buffer.from((pcr.result['documents'] as Array<{ data_base64: string }>)[0]!.data_base64, 'base64');
    assert.deepEqual(test2.reports, [{ filename: 'report-C19PCR01-EFGH5678-90AB-C1-D2E3.pdf', bytes: pdf.length }]);
    const upload = api.requests.find((r) => r.path.endsWith('/report'))!;
    assert.match(String(upload.headers['content-type']), /^multipart\/form-data; boundary=/);
    // The upload answer's url is kept in the delivery's exchanges.
    assert.match((exchanges(m.deliveries[0]!.attempts[0])[1]!.body as { url: string }).url, /\/report\/1\.pdf$/);
  });

  test("observation values map to the API's result enum", async () => {
    const cases: Array<[string, string]> = [
      ['POSITIVE', 'positive'],
      ['Not detected', 'negative'],
      [' reactive ', 'positive'],
      ['INVALID', 'invalid'],
      ['12.5', 'done'],
      ['<0.5', 'done'],
      ['EQUIVOCAL', 'complex'],
      ['see comment', 'unknown'],
    ];
    for (const [i, [value, expected]] of cases.entries()) {
      const code = `C19ENUM-${i}`;
      api.checkIn([code]);
      const obs = { ...(antigen.result['observations'] as object[])[0], value };
      const m = await deliver(t, '/channels/c19t-results', withResult(antigen, { id: `res_ENUM${i}`, accession: code, observations: [obs] }));
      assert.equal(m.deliveries[0]!.status, 'acknowledged', `${value}: ${JSON.stringify(m.deliveries[0]!.attempts)}`);
      assert.equal(api.tests.get(code)!.result, expected, value);
    }
  });

  test('pools: a negative result sets every test of the pool negative; a positive one only the pool', async () => {
    const negative = fixture('sars2-pool-negative');
    const positive = fixture('sars2-pool-positive');
    api.checkIn(['P4-A', 'P4-B', 'P4-C', 'P5-A', 'P5-B']);
    api.createPool(testCodeOf(negative), ['P4-A', 'P4-B', 'P4-C']);
    api.createPool(testCodeOf(positive), ['P5-A', 'P5-B']);
    const n = await deliver(t, '/channels/c19t-results', negative);
    assert.equal(n.deliveries[0]!.attempts[0]!.detail, '1 request: pool-result POST 201');
    assert.equal(api.pools.get(testCodeOf(negative))!.result, 'negative');
    assert.deepEqual(['P4-A', 'P4-B', 'P4-C'].map((c) => [api.tests.get(c)!.result, api.tests.get(c)!.viaPool]), Array(3).fill(['negative', testCodeOf(negative)]));
    const p = await deliver(t, '/channels/c19t-results', positive);
    assert.equal(p.deliveries[0]!.status, 'acknowledged');
    assert.equal(api.pools.get(testCodeOf(positive))!.result, 'positive');
    assert.deepEqual(['P5-A', 'P5-B'].map((c) => api.tests.get(c)!.result), [undefined, undefined], 'the tests stay open for retesting');
  });

  test('a repeated result is a 409 acknowledged as a duplicate; a conflicting one is rejected with the API text', async () => {
    api.checkIn(['C19DUP-1']);
    const m = await deliver(t, '/channels/c19t-results', withResult(antigen, { id: 'res_DUP', accession: 'C19DUP-1' }));
    assert.equal(m.deliveries[0]!.status, 'acknowledged');
    const again = await resend(t, m.id);
    assert.equal(again.deliveries[0]!.status, 'acknowledged');
    assert.equal(again.deliveries[0]!.attempts.at(-1)!.detail, '1 request: test-result POST 409 (duplicate)');
    const obs = { ...(antigen.result['observations'] as object[])[0], value: 'POSITIVE' };
    const corrected = withResult(antigen, { id: 'res_DUP', version: 2, accession: 'C19DUP-1', observations: [obs] });
    corrected['event'] = 'result.updated';
    const c = await deliver(t, '/channels/c19t-results', corrected);
    const d = c.deliveries[0]!;
    assert.equal(d.status, 'rejected');
    assert.equal(d.attempts[0]!.code, 'HTTP_CLIENT_ERROR');
    assert.equal(d.attempts[0]!.detail, 'request 1/1 (test-result) POST /v1/tests/C19DUP-1/result: 409 Conflict: Conflict: conflicting result for test C19DUP-1: it already has result negative');
    assert.equal(api.tests.get('C19DUP-1')!.result, 'negative');
  });

  test('an expired or revoked token: the 401 gets a fresh token and the request is repeated once', async () => {
    api.checkIn(['C19TOK-1']);
    const tokensBefore = api.tokenRequests.length;
    api.revokeTokens();
    const m = await deliver(t, '/channels/c19t-results', withResult(antigen, { id: 'res_TOK', accession: 'C19TOK-1' }));
    assert.equal(m.deliveries[0]!.status, 'acknowledged');
    assert.equal(m.deliveries[0]!.attempts.length, 1);
    assert.equal(api.tokenRequests.length, tokensBefore + 1);
    assert.equal(api.tests.get('C19TOK-1')!.result, 'negative');
  });

  test('a test code the API does not know, and a wrong app secret, are rejected with what the API said', async () => {
    const unknown = await deliver(t, '/channels/c19t-results', withResult(antigen, { id: 'res_UNKNOWN', accession: 'C19-NEVER-CHECKED-IN' }));
    assert.equal(unknown.deliveries[0]!.status, 'rejected');
    assert.equal(unknown.deliveries[0]!.attempts[0]!.detail, 'request 1/1 (test-result) POST /v1/tests/C19-NEVER-CHECKED-IN/result: 404 Not Found: Not Found: test C19-NEVER-CHECKED-IN is unknown (not checked in)');
    api.checkIn(['C19SECRET-1']);
    const bad = await deliver(t, '/channels/c19t-bad-secret', withResult(antigen, { id: 'res_SECRET', accession: 'C19SECRET-1' }));
    const d = bad.deliveries[0]!;
    assert.equal(d.status, 'rejected');
    assert.equal(d.attempts[0]!.code, 'AUTH_TOKEN_REJECTED');
    assert.match(d.attempts[0]!.detail!, /token endpoint answered 401 invalid_client: unknown app, organization or secret/);
    assert.equal(api.tests.get('C19SECRET-1')!.result, undefined);
  });
});
