/**
 * Seed 001: the docus-lab-results sample channel (platform webhooks → reference lab API) and the
 * docus-report-delivery channel (the lab's interpretation report back → the LIS as ORU^R01 with
 * an ED OBX, the EHR as DiagnosticReport.presentedForm), both loaded from channels/ and pointed
 * at the reference lab sandbox, a recording MLLP receiver and a FHIR server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DiagnosticReport } from '@medplum/fhirtypes';
import { signatureHeader } from '../../src/senders/http/auth/hmac.ts';
import { type FhirServerPeer, startFhirServer } from '../peers/fhir-server/index.ts';
import { type ReferenceLabPeer, sequence, startReferenceLab } from '../peers/partners/index.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { type RecordingReceiver, startRecordingReceiver } from '../support/recording-receiver.ts';
import { deliver, exchanges, resend, sample, sampleChannel, withResult } from './support.ts';

const DELIVERY_SECRET = 'sandbox-docus-delivery-secret';
const RESULT_ID = 'https://catenix.example/fhir/sid/result-id';

describe('reference lab (seed 001) through the docus-lab-results and docus-report-delivery channels', () => {
  let lab: ReferenceLabPeer;
  let lis: RecordingReceiver;
  let ehr: FhirServerPeer;
  let t: TestEngine;
  before(async () => {
    lab = await startReferenceLab();
    lis = await startRecordingReceiver({ keepRaw: true });
    ehr = await startFhirServer({ transactions: false });
    t = await startTestEngine({
      'docus-lab-results.yaml': sampleChannel('docus-lab-results', (_c, s) => {
        s['baseUrl'] = lab.url;
      }),
      'docus-wrong-key.yaml': sampleChannel(
        'docus-lab-results',
        (_c, s) => {
          s['baseUrl'] = lab.url;
          (s['auth'] as { headers: Record<string, string> }).headers['x-auth-key'] = 'not-the-auth-key';
        },
        'docus-wrong-key',
      ),
      'docus-report-delivery.yaml': sampleChannel('docus-report-delivery', (c) => {
        const [toLis, toEhr] = c['destinations'] as Array<{ sender: Record<string, unknown>; delivery: unknown }>;
        toLis!.sender['port'] = lis.port;
        toEhr!.sender['baseUrl'] = ehr.baseUrl;
        toEhr!.delivery = toLis!.delivery;
      }),
    });
    lab.setDelivery({ url: `${t.url}/channels/docus-report-delivery`, secret: DELIVERY_SECRET });
  });
  after(async () => {
    await t?.stop();
    await Promise.all([lab?.close(), lis?.close(), ehr?.close()]);
  });

  let labResultId = '';

  test('a result goes to /lab-results with the three credential headers, partner_lab_id and the device PDF; the lab accepts it', async () => {
    const m = await deliver(t, '/channels/docus-lab-results', sample('full-bmp-panel'));
    const d = m.deliveries[0]!;
    assert.equal(d.status, 'acknowledged', JSON.stringify(d.attempts));
    assert.equal(d.attempts[0]!.detail, '1 request: request POST 201');
    const req = lab.requests.at(-1)!;
    assert.equal(req.path, '/lab-results');
    assert.deepEqual([req.headers['x-api-key'], req.headers['x-team-id'], req.headers['x-auth-key']], ['sandbox-docus-api-key', 'sandbox-team', 'sandbox-docus-auth-key']);
    labResultId = (exchanges(d.attempts[0])[0]!.body as { lab_result_id: string }).lab_result_id;
    const stored = lab.labResults.get(labResultId)!;
    assert.equal(stored.interpretation, true);
    assert.equal(stored.submission.partner_lab_id, 'northside-clinics');
    assert.equal(stored.submission.reference_id, 'res_8F2C41.v1');
    assert.deepEqual(stored.submission.patient, { id: 'MRN-004211', first_name: 'Thi Mai', last_name: 'Nguyen', date_of_birth: '1984-03-07', sex: 'female' });
    assert.deepEqual(stored.submission.data?.tests.map((x) => [x.code, x.value, x.flags]), [['GLU', '5.4', []], ['K', '6.1', ['H']], ['HBA1C', '>14.0', ['HH']]]);
    assert.ok(stored.submission.file_base64?.startsWith('JVBERi0'));
  });

  test('a report with only a PDF is stored without interpretation (/lab-results/not-interpret)', async () => {
    const m = await deliver(t, '/channels/docus-lab-results', withResult(sample('full-bmp-panel'), { id: 'res_PDFONLY', observations: [] }));
    assert.equal(m.deliveries[0]!.status, 'acknowledged', JSON.stringify(m.deliveries[0]!.attempts));
    const req = lab.requests.at(-1)!;
    assert.equal(req.path, '/lab-results/not-interpret');
    assert.equal((req.json as Record<string, unknown>)['data'], undefined, 'no empty data object');
    assert.equal((req.answer as { interpretation: string }).interpretation, 'not_requested');
  });

  test('sending the same result again is a 409 duplicate, acknowledged; a 500 is retried', async () => {
    const m = await deliver(t, '/channels/docus-lab-results', withResult(sample('full-bmp-panel'), { id: 'res_AGAIN' }));
    lab.script(sequence({ status: 500, body: { error: 'internal', message: 'try later' } }));
    const again = await resend(t, m.id);
    const attempts = again.deliveries[0]!.attempts;
    assert.deepEqual(attempts.map((a) => a.outcome), ['acknowledged', 'retryable', 'acknowledged']);
    assert.equal(attempts[1]!.detail, 'request 1/1 (request) POST /lab-results: 500 Internal Server Error: internal: try later');
    assert.equal(attempts[2]!.detail, '1 request: request POST 409 (duplicate)');
    assert.equal([...lab.labResults.values()].filter((r) => r.submission.reference_id === 'res_AGAIN.v1').length, 1);
  });

  test('wrong credentials are rejected with the header the lab names', async () => {
    const m = await deliver(t, '/channels/docus-wrong-key', withResult(sample('full-bmp-panel'), { id: 'res_BADKEY' }));
    const d = m.deliveries[0]!;
    assert.equal(d.status, 'rejected');
    assert.equal(d.attempts[0]!.code, 'AUTH_UNAUTHORIZED');
    assert.equal(d.attempts[0]!.detail, 'request 1/1 (request) POST /lab-results: 401 Unauthorized: unauthorized: missing or invalid credentials: x-auth-key');
  });

  test('the interpretation report comes back signed, and goes to the LIS as an ED OBX and to the EHR as presentedForm', async () => {
    assert.ok(labResultId, 'the first test submitted a result');
    const delivery = await lab.deliver(labResultId);
    assert.equal(delivery.status, 201, delivery.answer);
    await t.drained();
    const { messageId } = JSON.parse(delivery.answer) as { messageId: string };
    const view = (await (await t.admin(`/api/messages/${messageId}`)).json()) as { deliveries: Array<{ destinationId: string; status: string }> };
    assert.deepEqual(view.deliveries.map((d) => [d.destinationId, d.status]), [['lis', 'acknowledged'], ['ehr', 'acknowledged']]);
    const pdf = (delivery.body as { report: { file_base64: string } }).report.file_base64;
    assert.equal(Buffer.from(pdf, 'base64').subarray(0, 5).toString(), '%PDF-');

    const oru = lis.frames.at(-1)!.raw!.split('\r');
    assert.match(oru.find((s) => s.startsWith('PID|'))!, /^PID\|1\|\|MRN-004211\^\^\^MRN\^MR\|\|Nguyen\^Thi\^Mai/);
    assert.match(oru.find((s) => s.startsWith('OBR|'))!, /^OBR\|1\|res_8F2C41\.v1\|A2611200042\|DOCUS-INTERP\^Clinical interpretation report \(Docus\)\^L/);
    const obx = oru.find((s) => s.startsWith('OBX|'))!.split('|');
    assert.equal(obx[2], 'ED');
    assert.equal(obx[5], `^AP^PDF^Base64^${pdf}`);

    const found = await ehr.search('DiagnosticReport', `identifier=${RESULT_ID}|docus-${labResultId}`);
    const report = found.entry?.[0]?.resource as DiagnosticReport | undefined;
    assert.ok(report, 'the DiagnosticReport is in the EHR');
    assert.deepEqual(report.presentedForm, [{ contentType: 'application/pdf', data: pdf, title: 'Docus interpretation report' }]);
  });

  test('partner_lab_id routes the report: another lab goes to the EHR only; a bad signature is refused', async () => {
    const body = JSON.stringify({
      event: 'interpretation_report.ready',
      lab_result_id: 'lr_other_lab',
      partner_lab_id: 'another-lab',
      patient: { id: 'MRN-900001', first_name: 'Inés', last_name: 'García Márquez', date_of_birth: '1972-08-09', sex: 'female' },
      report: { content_type: 'application/pdf', file_name: 'x.pdf', file_base64: Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64') },
      generated_at: '2026-11-21T10:00:00Z',
    });
    const [name, value] = signatureHeader({ secret: DELIVERY_SECRET, header: 'X-Docus-Signature', prefix: 'sha256=', encoding: 'hex' }, body);
    const res = await t.post('/channels/docus-report-delivery', body, { [name]: value });
    assert.equal(res.status, 201, await res.clone().text());
    await t.drained();
    const { messageId } = (await res.json()) as { messageId: string };
    const view = (await (await t.admin(`/api/messages/${messageId}`)).json()) as { deliveries: Array<{ destinationId: string; status: string }> };
    assert.deepEqual(view.deliveries.map((d) => [d.destinationId, d.status]), [['ehr', 'acknowledged']]);
    const forged = await t.post('/channels/docus-report-delivery', body.replace('MRN-900001', 'MRN-900002'), { [name]: value });
    assert.equal(forged.status, 401);
  });
});
