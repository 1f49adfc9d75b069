/**
 * Platform events → FHIR R4 transaction Bundles → a real FHIR server on loopback (Medplum's
 * FhirRouter over its in-memory repository, validating every write).
 *
 * The peer runs transactions as batches (`transactions: false`): FhirRouter refuses any
 * transaction with a conditional entry above 8 entries (it wants serializable isolation,
 * which its memory repository cannot give anyway), and a 3-result report is already 9.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import { type FhirServerPeer, operationOutcome, sequence, startFhirServer } from '../peers/fhir-server/index.ts';
import { makeEvent, sampleEvent } from '../support/events.ts';
import { toEhrChannel } from '../support/fhir-channel.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { platformEvent, platformEventNames } from '../support/repo.ts';

type View = {
  status: string;
  deliveries: Array<{
    status: string;
    attempts: Array<{ outcome: string; code?: string; detail?: string; response?: string; startedAt: string }>;
    fhir?: { entries?: Array<{ status: string; location?: string }>; outcome?: { issue: Array<{ details?: { text: string }; diagnostics?: string }> } };
  }>;
};

const MRN = 'https://northside-clinics.example/fhir/sid/mrn';
const RESULT = 'https://catenix.example/fhir/sid/result-id';

async function total(fhir: FhirServerPeer, type: string, query: string): Promise<number> {
  const b = await fhir.search(type, query);
  return b.entry?.length ?? 0;
}

describe('platform events → FHIR transaction Bundles on a real FHIR server', () => {
  let fhir: FhirServerPeer;
  let t: TestEngine;
  before(async () => {
    fhir = await startFhirServer({ transactions: false });
    t = await startTestEngine({ 'to-ehr.yaml': toEhrChannel('to-ehr', fhir.baseUrl) });
  });
  after(async () => {
    await t.stop();
    await fhir.close();
  });

  async function send(event: unknown): Promise<View> {
    const res = await t.post('/channels/to-ehr', event);
    assert.ok(res.status === 201 || res.status === 200, await res.clone().text());
    const { messageId } = (await res.json()) as { messageId: string };
    await t.drained();
    return (await (await t.admin(`/api/messages/${messageId}`)).json()) as View;
  }

  test('every platform sample is accepted, entry by entry, with locations in the admin API', async () => {
    for (const f of platformEventNames()) {
      const view = await send(platformEvent(f));
      assert.equal(view.status, 'acknowledged', `${f}: ${JSON.stringify(view.deliveries[0]?.attempts)}`);
      const entries = view.deliveries[0]!.fhir!.entries!;
      assert.ok(entries.length >= 2, f);
      for (const e of entries) {
        assert.match(e.status, /^20[01]/, f);
        assert.match(e.location ?? '', /^(Patient|Encounter|Device|ServiceRequest|Observation|DiagnosticReport)\//, f);
      }
    }
  });

  test('the full event lands as linked resources; a search by LOINC code finds the observation', async () => {
    const report = (await fhir.search('DiagnosticReport', `identifier=${RESULT}|res_8F2C41`)).entry![0]!.resource as {
      status: string;
      subject: { reference: string };
      result: Array<{ reference: string }>;
    };
    assert.equal(report.result.length, 3);
    const patient = (await fhir.search('Patient', `identifier=${MRN}|MRN-004211`)).entry![0]!.resource!;
    assert.equal(report.subject.reference, `Patient/${patient.id}`);
    const glucose = await fhir.search('Observation', 'code=http://loinc.org|14743-9');
    const found = glucose.entry!.map((e) => e.resource as { subject?: { reference: string }; valueQuantity: { value: number; code: string } });
    assert.ok(found.some((o) => o.subject?.reference === `Patient/${patient.id}` && o.valueQuantity.value === 5.4 && o.valueQuantity.code === 'mmol/L'));
  });

  test('a resend and a correction create no second Patient, DiagnosticReport or Observation', async () => {
    const before = await total(fhir, 'Patient', `identifier=${MRN}|MRN-004211`);
    assert.equal(before, 1);
    // The same event again is idempotent at intake (nothing sent) …
    await send(sampleEvent('full-bmp-panel'));
    // … and a resend from the admin API goes to the EHR again, with the same conditions.
    // The first test sent every sample, the correction (version 2) included: version 1 is
    // superseded, so its resend is refused unless forced; the current version resends.
    const { messages } = (await (await t.admin('/api/messages?channel=to-ehr&limit=100')).json()) as {
      messages: Array<{ id: string; sourceId: string; sourceVersion: string; current?: boolean }>;
    };
    const original = messages.find((m) => m.sourceId === 'res_8F2C41' && m.sourceVersion === '1')!;
    const current = messages.find((m) => m.sourceId === 'res_8F2C41' && m.current === true)!;
    assert.notEqual(current.id, original.id);
    assert.equal((await t.admin(`/api/messages/${original.id}/resend`, { method: 'POST' })).status, 409);
    assert.equal((await t.admin(`/api/messages/${current.id}/resend`, { method: 'POST' })).status, 202);
    assert.equal((await t.admin(`/api/messages/${original.id}/resend?force=true`, { method: 'POST' })).status, 202);
    await t.drained();
    // The correction (version 2) updates the report and the potassium observation.
    const corrected = await send(sampleEvent('correction-potassium'));
    assert.equal(corrected.status, 'acknowledged', JSON.stringify(corrected.deliveries[0]?.attempts));
    assert.equal(await total(fhir, 'Patient', `identifier=${MRN}|MRN-004211`), 1);
    assert.equal(await total(fhir, 'DiagnosticReport', `identifier=${RESULT}|res_8F2C41`), 1);
    const k = await fhir.search('Observation', 'identifier=https://catenix.example/fhir/sid/observation-id|res_8F2C41/K');
    assert.equal(k.entry!.length, 1);
    const obs = k.entry![0]!.resource as { status: string; valueQuantity: { value: number } };
    assert.equal(obs.status, 'corrected');
    assert.equal(obs.valueQuantity.value, 4.6);
    const dr = (await fhir.search('DiagnosticReport', `identifier=${RESULT}|res_8F2C41`)).entry![0]!.resource as { status: string };
    assert.equal(dr.status, 'corrected');
    assert.equal(await total(fhir, 'Observation', 'identifier=https://catenix.example/fhir/sid/observation-id|res_8F2C41/GLU'), 1);
  });

  test('an EHR that refuses the Bundle: rejected at once, the OperationOutcome stored', async () => {
    fhir.script((req) =>
      req.method === 'POST' && req.body.includes('res_REFUSED_1')
        ? { status: 422, body: operationOutcome('business-rule', 'Observation.code must carry a LOINC coding for this EHR') }
        : undefined,
    );
    after(() => fhir.script(undefined));
    const view = await send(makeEvent('res_REFUSED_1'));
    assert.equal(view.status, 'rejected');
    const d = view.deliveries[0]!;
    assert.equal(d.attempts.length, 1);
    assert.equal(d.attempts[0]!.code, 'HTTP_CLIENT_ERROR');
    assert.match(d.attempts[0]!.detail ?? '', /LOINC coding/);
    assert.match(d.fhir?.outcome?.issue[0]?.details?.text ?? '', /LOINC coding/);
  });

  test('503 then success is retried; 429 with Retry-After waits before the next attempt', async () => {
    fhir.script(sequence({ status: 503, body: operationOutcome('transient', 'maintenance') }, { status: 429, headers: { 'retry-after': '1' } }));
    after(() => fhir.script(undefined));
    const view = await send(makeEvent('res_RETRY_1'));
    assert.equal(view.status, 'acknowledged');
    const a = view.deliveries[0]!.attempts;
    assert.deepEqual(
      a.map((x) => x.code ?? x.outcome),
      ['HTTP_SERVER_ERROR', 'HTTP_TOO_MANY_REQUESTS', 'acknowledged'],
    );
    const waited = Date.parse(a[2]!.startedAt) - Date.parse(a[1]!.startedAt);
    assert.ok(waited >= 1000, `waited ${waited} ms after a 429 with Retry-After: 1`);
  });
});

test('the Bundle the EHR got is the one stored, and its references all resolve', async () => {
  const fhir = await startFhirServer({ transactions: false });
  const t = await startTestEngine({ 'to-ehr.yaml': toEhrChannel('to-ehr', fhir.baseUrl) });
  after(async () => {
    await t.stop();
    await fhir.close();
  });
  const res = await t.post('/channels/to-ehr', sampleEvent('urine-dipstick-many'));
  const { messageId } = (await res.json()) as { messageId: string };
  await t.drained();
  const view = (await (await t.admin(`/api/messages/${messageId}`)).json()) as { deliveries: Array<{ payload: string }> };
  const bundle = JSON.parse(view.deliveries[0]!.payload) as Bundle;
  assert.equal(bundle.type, 'transaction');
  const fullUrls = new Set(bundle.entry!.map((e) => e.fullUrl));
  const refs = JSON.stringify(bundle).match(/"reference":"[^"]+"/g) ?? [];
  for (const r of refs) assert.ok(fullUrls.has(r.slice(13, -1)), `${r} points inside the Bundle`);
  const observations = await fhir.search('Observation', 'identifier=https://catenix.example/fhir/sid/observation-id|res_URINE_55/U-SG');
  assert.equal((observations.entry![0]!.resource as { valueQuantity: { value: number } }).valueQuantity.value, 1.025);
  // The device printout travels as DiagnosticReport.presentedForm.
  assert.equal((await t.post('/channels/to-ehr', sampleEvent('full-bmp-panel'))).status, 201);
  await t.drained();
  const dr = (await fhir.search('DiagnosticReport', `identifier=${RESULT}|res_8F2C41`)).entry![0]!.resource as { presentedForm: Array<{ contentType: string; data: string; title: string }> };
  assert.deepEqual(dr.presentedForm.map((p) => [p.contentType, p.title, p.data.slice(0, 8)]), [['application/pdf', 'Device printout', 'JVBERi0x']]);
});
