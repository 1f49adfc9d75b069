/**
 * Seed 004: the lis-partner-tests sample channel (platform webhooks → LIS partner API), loaded
 * from channels/ and pointed at the LIS sandbox, which checks permissions, scope and every field.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ALL_PERMISSIONS, type LisApiPeer, SANDBOX_LIS, startLisApi } from '../peers/partners/index.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { deliver, exchanges, resend, sample, sampleChannel, withResult } from './support.ts';

const HMAC_SECRET = 'lis-hmac-secret-0123456789';

describe('LIS partner API (seed 004) through the lis-partner-tests sample channel', () => {
  let lis: LisApiPeer;
  let t: TestEngine;
  before(async () => {
    lis = await startLisApi({
      integrations: [
        SANDBOX_LIS,
        { ...SANDBOX_LIS, token: 'no-create-patients', permissions: ALL_PERMISSIONS.filter((p) => p !== 'patients:create') },
        { ...SANDBOX_LIS, token: 'north-only', locationIds: ['LOC-NORTH'] },
      ],
      hmac: { ...SANDBOX_LIS, secret: HMAC_SECRET },
    });
    const at = (token: string) => (_c: Record<string, unknown>, s: Record<string, unknown>) => {
      s['baseUrl'] = `${lis.url}/api/v1`;
      s['auth'] = { type: 'bearer', token };
    };
    t = await startTestEngine({
      'lis-partner-tests.yaml': sampleChannel('lis-partner-tests', at(SANDBOX_LIS.token)),
      'lis-no-create.yaml': sampleChannel('lis-partner-tests', at('no-create-patients'), 'lis-no-create'),
      'lis-north-only.yaml': sampleChannel('lis-partner-tests', at('north-only'), 'lis-north-only'),
      'lis-hmac.yaml': sampleChannel(
        'lis-partner-tests',
        (_c, s) => {
          s['baseUrl'] = `${lis.url}/api/v1`;
          s['auth'] = { type: 'hmac', secret: HMAC_SECRET };
        },
        'lis-hmac',
      ),
      'lis-bad-hmac.yaml': sampleChannel(
        'lis-partner-tests',
        (_c, s) => {
          s['baseUrl'] = `${lis.url}/api/v1`;
          s['auth'] = { type: 'hmac', secret: 'not-the-lis-secret-000' };
        },
        'lis-bad-hmac',
      ),
    });
  });
  after(async () => {
    await t?.stop();
    await lis?.close();
  });
  beforeEach(() => lis.script(undefined));

  const patientsWith = (ext: string) => [...lis.patients.values()].filter((p) => p.externalPatientID === ext);
  const testsOf = (patientId: string) => [...lis.tests.values()].filter((x) => x.patientId === patientId);

  test('the first result creates the patient; a second result for the same patient reuses it', async () => {
    const first = await deliver(t, '/channels/lis-partner-tests', sample('full-bmp-panel'));
    const d1 = first.deliveries[0]!;
    assert.equal(d1.status, 'acknowledged', JSON.stringify(d1.attempts));
    assert.equal(d1.attempts[0]!.detail, '2 requests: patient POST 201, test POST 201');
    const [patient] = patientsWith('MRN-004211');
    assert.ok(patient);
    assert.deepEqual(
      { firstName: patient.firstName, lastName: patient.lastName, dateOfBirth: patient.dateOfBirth, sex: patient.sex, clientId: patient.clientId, hasAccount: patient.hasAccount },
      { firstName: 'Thi Mai', lastName: 'Nguyen', dateOfBirth: '1984-03-07', sex: 'female', clientId: 'CL-NORTHSIDE', hasAccount: false },
    );
    const second = await deliver(t, '/channels/lis-partner-tests', withResult(sample('full-bmp-panel'), { id: 'res_8F2C99', accession: 'A2611200099' }));
    assert.equal(second.deliveries[0]!.status, 'acknowledged');
    assert.equal(second.deliveries[0]!.attempts[0]!.detail, '2 requests: patient POST 409 (duplicate), test POST 201');
    assert.equal(patientsWith('MRN-004211').length, 1, 'no duplicate patient');
    const tests = testsOf(patient.id);
    assert.deepEqual(tests.map((x) => x.externalTestID).sort(), ['res_8F2C41', 'res_8F2C99']);
    const test1 = tests.find((x) => x.externalTestID === 'res_8F2C41')!;
    assert.deepEqual(
      { locationId: test1.locationId, testCode: test1.testCode, status: test1.status, collectedAt: test1.collectedAt },
      { locationId: 'LOC-NORTH', testCode: 'BMP-POC', status: 'final', collectedAt: '2026-11-20T09:13:41+01:00' },
    );
    assert.deepEqual(
      test1.results.map((r) => (r as { value: string }).value),
      ['5.4', '6.1', '>14.0'],
    );
    // The 409 answer gave the existing patient's id, and the test was created for it.
    const ex = exchanges(second.deliveries[0]!.attempts[0]);
    assert.equal((ex[0]!.body as { patientId: string }).patientId, patient.id);
  });

  test('a correction finds the test by externalTestID and updates it', async () => {
    const corrected = await deliver(t, '/channels/lis-partner-tests', sample('correction-potassium'));
    const d = corrected.deliveries[0]!;
    assert.equal(d.status, 'acknowledged', JSON.stringify(d.attempts));
    assert.equal(d.attempts[0]!.detail, '3 requests: patient POST 409 (duplicate), find-test GET 200, update-test PUT 200');
    const test1 = [...lis.tests.values()].find((x) => x.externalTestID === 'res_8F2C41')!;
    assert.equal(test1.revisions, 1);
    assert.equal(test1.status, 'corrected');
    assert.equal((test1.results[1] as { value: string }).value, '4.6');
  });

  test('sending a message again creates nothing twice: the 409s count as delivered', async () => {
    const m = await deliver(t, '/channels/lis-partner-tests', withResult(sample('full-bmp-panel'), { id: 'res_RESEND1', patient: { ...sample('full-bmp-panel').result['patient'] as object, external_id: 'MRN-RESEND' } }));
    assert.equal(m.deliveries[0]!.status, 'acknowledged');
    const again = await resend(t, m.id);
    const last = again.deliveries[0]!.attempts.at(-1)!;
    assert.equal(again.deliveries[0]!.status, 'acknowledged');
    assert.equal(last.detail, '2 requests: patient POST 409 (duplicate), test POST 409 (duplicate)');
    assert.equal(patientsWith('MRN-RESEND').length, 1);
    assert.equal(testsOf(patientsWith('MRN-RESEND')[0]!.id).length, 1);
  });

  test("a missing permission is rejected at once, with the API's message in the admin API", async () => {
    const m = await deliver(t, '/channels/lis-no-create', withResult(sample('full-bmp-panel'), { id: 'res_NOPERM', patient: { family: 'Okafor', given: ['Chinedu'], birth_date: '1970-01-02', external_id: 'MRN-NOPERM' } }));
    const d = m.deliveries[0]!;
    assert.equal(d.status, 'rejected');
    assert.equal(d.attempts.length, 1, 'a refusal is not retried');
    assert.equal(d.attempts[0]!.code, 'AUTH_FORBIDDEN');
    assert.equal(
      d.attempts[0]!.detail,
      "request 1/2 (patient) POST /patients: 403 Forbidden: FORBIDDEN: this integration lacks the 'Create Patients' permission (patients:create)",
    );
    assert.equal(patientsWith('MRN-NOPERM').length, 0);
  });

  test('a location outside the scope: the patient is created, the test refused with the scope message', async () => {
    const event = withResult(sample('full-bmp-panel'), {
      id: 'res_WARD7B',
      device: { id: 'dev_AF2_0009', model: 'Afinion 2', serial: 'AF2-1', site: 'Ward 7B' },
      patient: { family: 'Kowalski', given: ['Zofia'], birth_date: '1961-07-30', sex: 'female', external_id: 'MRN-SCOPE' },
    });
    const m = await deliver(t, '/channels/lis-north-only', event);
    const d = m.deliveries[0]!;
    assert.equal(d.status, 'rejected');
    assert.equal(d.attempts[0]!.detail, "request 2/2 (test) POST /tests: 403 Forbidden: FORBIDDEN: Location ID 'LOC-WARD-7B' is outside this integration's access scope");
    assert.equal(patientsWith('MRN-SCOPE').length, 1);
  });

  test('an event the LIS cannot take (no patient) is rejected with its field errors', async () => {
    const m = await deliver(t, '/channels/lis-partner-tests', sample('compact-glucose'));
    const d = m.deliveries[0]!;
    assert.equal(d.status, 'rejected');
    assert.equal(d.attempts[0]!.code, 'HTTP_CLIENT_ERROR');
    assert.match(d.attempts[0]!.detail!, /^request 1\/2 \(patient\) POST \/patients: 400 Bad Request: VALIDATION_ERROR: the request body is not valid; firstName: .*; lastName: .*; dateOfBirth: .*; clientId: /);
  });

  test('a 503 is retried and the retry resumes at the failed step; a 429 waits for its Retry-After', async () => {
    let failures = 0;
    lis.script((r) => (r.path === '/api/v1/tests' && r.method === 'POST' && failures++ === 0 ? { status: 503, body: { error: 'UNAVAILABLE', message: 'maintenance window' } } : undefined));
    const before = lis.requests.length;
    const m = await deliver(t, '/channels/lis-partner-tests', withResult(sample('full-bmp-panel'), { id: 'res_RETRY', patient: { family: 'Smith', given: ['Ann'], birth_date: '1955-02-03', external_id: 'MRN-RETRY' } }));
    const d = m.deliveries[0]!;
    assert.equal(d.status, 'acknowledged');
    assert.deepEqual(d.attempts.map((a) => [a.outcome, a.code ?? '']), [['retryable', 'HTTP_SERVER_ERROR'], ['acknowledged', '']]);
    assert.equal(d.attempts[0]!.detail, 'request 2/2 (test) POST /tests: 503 Service Unavailable: UNAVAILABLE: maintenance window');
    assert.match(d.attempts[1]!.detail!, /^resumed after 1 request\(s\) done in an earlier attempt; 1 request: test POST 201$/);
    assert.deepEqual(lis.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.status}`), ['POST /api/v1/patients 201', 'POST /api/v1/tests 503', 'POST /api/v1/tests 201']);

    let limited = 0;
    lis.script((r) => (r.path === '/api/v1/patients' && limited++ === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { error: 'RATE_LIMITED', message: 'too many requests' } } : undefined));
    const r2 = await deliver(t, '/channels/lis-partner-tests', withResult(sample('full-bmp-panel'), { id: 'res_RATE', patient: { family: 'Dubois', given: ['Éloïse'], birth_date: '1999-12-31', external_id: 'MRN-RATE' } }));
    const [a1, a2] = r2.deliveries[0]!.attempts;
    assert.equal(a1!.code, 'HTTP_TOO_MANY_REQUESTS');
    assert.equal(a2!.outcome, 'acknowledged');
    const waited = Date.parse(a2!.startedAt) - Date.parse(a1!.startedAt);
    assert.ok(waited >= 950, `the retry came ${waited} ms later; Retry-After asked for 1000`);
  });

  test('hmac auth: the LIS verifies the signature of every body; a wrong secret is refused', async () => {
    const event = withResult(sample('full-bmp-panel'), { id: 'res_HMAC', patient: { family: "O'Brien", given: ['Siobhán'], birth_date: '1980-04-01', external_id: 'MRN-HMAC' } });
    const ok = await deliver(t, '/channels/lis-hmac', event);
    assert.equal(ok.deliveries[0]!.status, 'acknowledged', JSON.stringify(ok.deliveries[0]!.attempts));
    const signed = lis.requests.filter((r) => r.headers['x-signature'] !== undefined);
    assert.ok(signed.length >= 2);
    assert.ok(signed.every((r) => /^sha256=[0-9a-f]{64}$/.test(String(r.headers['x-signature'])) && r.headers.authorization === undefined));
    const bad = await deliver(t, '/channels/lis-bad-hmac', withResult(event, { id: 'res_HMAC_BAD' }));
    const d = bad.deliveries[0]!;
    assert.equal(d.status, 'rejected');
    assert.equal(d.attempts[0]!.code, 'AUTH_UNAUTHORIZED');
    assert.match(d.attempts[0]!.detail!, /401 Unauthorized: UNAUTHORIZED: the body signature does not verify$/);
  });
});
