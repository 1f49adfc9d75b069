import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, DiagnosticReport, Observation } from '@medplum/fhirtypes';
import { type FhirServerPeer, startFhirServer } from '../../peers/fhir-server/index.ts';
import { assertOutcome, Cleanup, fhirSender, INVALID_OBSERVATION, LAB_REPORT, send } from './helpers.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

const MRN = 'identifier=urn:oid:2.16.840.1.113883.19.5|MRN-40211';
const ACCESSION = 'identifier=urn:oid:2.16.840.1.113883.19.7|ACC-77120';

async function count(fhir: FhirServerPeer, type: string, query: string): Promise<number> {
  return ((await fhir.search(type, query)) as Bundle).total ?? 0;
}

describe('FHIR transaction Bundles against Medplum FhirRouter', () => {
  let fhir: FhirServerPeer;
  before(async () => {
    fhir = cleanup.add(await startFhirServer());
  });

  it('a lab report transaction is acknowledged, with the transaction-response as response and a status summary', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const outcome = await send(sender);
    assertOutcome(outcome, 'acknowledged');
    assert.equal(outcome.detail, '4 entries: 4×201 Created');
    const response = JSON.parse(outcome.response) as Bundle;
    assert.equal(response.type, 'transaction-response');
    assert.deepEqual(response.entry?.map((e) => e.response?.status), ['201', '201', '201', '201']);

    const post = fhir.requests.at(-1)!;
    assert.deepEqual({ method: post.method, path: post.path, status: post.status }, { method: 'POST', path: '/', status: 200 });
    assert.equal(post.contentType, 'application/fhir+json');
    assert.equal(post.accept, 'application/fhir+json');
    assert.equal(post.authorization, undefined);

    // urn:uuid references were rewritten to the ids the server assigned.
    const report = (await fhir.search('DiagnosticReport', ACCESSION)).entry![0]!.resource as DiagnosticReport;
    const patient = (await fhir.search('Patient', MRN)).entry![0]!.resource!;
    assert.equal(report.subject?.reference, `Patient/${patient.id}`);
    assert.equal(report.result?.length, 2);
    for (const ref of report.result ?? []) assert.match(ref.reference ?? '', /^Observation\/[0-9a-f-]{36}$/);
    const potassium = (await fhir.search('Observation', 'identifier=urn:oid:2.16.840.1.113883.19.7|ACC-77120-1')).entry![0]!.resource as Observation;
    assert.equal(potassium.subject?.reference, `Patient/${patient.id}`);
  });

  it('sending the same Bundle again creates nothing new: conditional creates match, the conditional update updates', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const outcome = await send(sender);
    assertOutcome(outcome, 'acknowledged');
    assert.equal(outcome.detail, '4 entries: 4×200 OK');
    assert.equal(await count(fhir, 'Patient', MRN), 1);
    assert.equal(await count(fhir, 'Observation', 'identifier=urn:oid:2.16.840.1.113883.19.7|ACC-77120-1'), 1);
    assert.equal(await count(fhir, 'Observation', 'identifier=urn:oid:2.16.840.1.113883.19.7|ACC-77120-2'), 1);
    assert.equal(await count(fhir, 'DiagnosticReport', ACCESSION), 1);
    // The report was updated in place: two versions.
    const report = (await fhir.search('DiagnosticReport', ACCESSION)).entry![0]!.resource!;
    const history = await fhir.router.handleRequest(
      { method: 'GET', url: `DiagnosticReport/${report.id}/_history`, pathname: '', body: undefined, params: {}, query: {} },
      fhir.repo,
    );
    assert.equal((history[1] as Bundle).entry?.length, 2);
  });

  it('an invalid resource: rejected HTTP_CLIENT_ERROR with the OperationOutcome in detail and response', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const outcome = await send(sender, INVALID_OBSERVATION);
    assertOutcome(outcome, 'rejected', 'HTTP_CLIENT_ERROR');
    assert.equal(outcome.detail, '400 Bad Request: Invalid JSON type: expected number, but got string (Observation.value[x].value)');
    const oo = JSON.parse(outcome.response!);
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.equal(fhir.requests.at(-1)!.status, 400);
  });

  it('Medplum transactions are not atomic: entries before the invalid one stay written, and a corrected resend adds no duplicate', async () => {
    // The Patient of the rejected Bundle above was created before the Observation failed.
    assert.equal(await count(fhir, 'Patient', 'identifier=urn:oid:2.16.840.1.113883.19.5|MRN-51877'), 1);
    const fixed = INVALID_OBSERVATION.replace('"value": "7.2"', '"value": 7.2');
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const outcome = await send(sender, fixed);
    assertOutcome(outcome, 'acknowledged');
    assert.equal(outcome.detail, '2 entries: 1×200 OK, 1×201 Created');
    assert.equal(await count(fhir, 'Patient', 'identifier=urn:oid:2.16.840.1.113883.19.5|MRN-51877'), 1);
  });

  it('a batch Bundle expects a batch-response; a failing entry is reported per entry', async () => {
    const batch = JSON.parse(INVALID_OBSERVATION.replaceAll('ACC-80455-1', 'ACC-80455-9')) as Bundle;
    batch.type = 'batch';
    // In a batch, urn:uuid references between entries are not resolved: point at the Patient by search instead.
    const obs = batch.entry![1]!.resource as Observation;
    obs.subject = { reference: 'Patient?identifier=urn:oid:2.16.840.1.113883.19.5|MRN-51877' };
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const outcome = await send(sender, JSON.stringify(batch));
    assertOutcome(outcome, 'rejected', 'FHIR_ENTRY_REJECTED');
    assert.equal(
      outcome.detail,
      '2 entries: 1×200 OK, 1×400 Bad Request; entry[1] 400 Bad Request: Invalid JSON type: expected number, but got string (Observation.value[x].value)',
    );
    assert.equal(JSON.parse(outcome.response!).type, 'batch-response');
  });

  it('Medplum refuses a transaction of more than 8 entries when any entry is conditional (400)', async () => {
    // fhir-router batch.ts: maxSerializableTransactionEntries = 8 for Bundles that need serializable isolation.
    const bundle = JSON.parse(LAB_REPORT) as Bundle;
    const observation = bundle.entry![1]!;
    for (let i = 3; i <= 7; i++) {
      const copy = structuredClone(observation);
      copy.fullUrl = `urn:uuid:8a3b5c7d-2e4f-4a6b-8c9d-0e1f2a3b4c${String(i).padStart(2, '0')}`;
      (copy.resource as Observation).identifier = [{ system: 'urn:oid:2.16.840.1.113883.19.7', value: `ACC-77120-${i}` }];
      copy.request!.ifNoneExist = `identifier=urn:oid:2.16.840.1.113883.19.7|ACC-77120-${i}`;
      bundle.entry!.push(copy);
    }
    assert.equal(bundle.entry!.length, 9);
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const outcome = await send(sender, JSON.stringify(bundle));
    assertOutcome(outcome, 'rejected', 'HTTP_CLIENT_ERROR');
    assert.equal(outcome.detail, '400 Bad Request: Transaction requires strict isolation but has too many entries');
    // The same nine entries as a batch are accepted (each entry on its own).
    bundle.type = 'batch';
    const batch = await send(sender, JSON.stringify(bundle));
    assertOutcome(batch, 'acknowledged');
    assert.equal(batch.detail, '9 entries: 5×201 Created, 4×200 OK');
  });

  it('a server that runs transactions as batches (config.transactions off) reports failures per entry in a 200', async () => {
    const lenient = cleanup.add(await startFhirServer({ transactions: false }));
    const sender = fhirSender(cleanup, { baseUrl: lenient.baseUrl });
    const outcome = await send(sender, INVALID_OBSERVATION);
    assertOutcome(outcome, 'rejected', 'FHIR_ENTRY_REJECTED');
    assert.equal(
      outcome.detail,
      '2 entries: 1×201 Created, 1×400 Bad Request; entry[1] 400 Bad Request: Invalid JSON type: expected number, but got string (Observation.value[x].value)',
    );
    assert.equal(JSON.parse(outcome.response!).type, 'transaction-response');
  });

  it('a payload that is not a batch or transaction Bundle is rejected without a request', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const before = fhir.requests.length;
    for (const payload of ['MSH|^~\\&|LAB', '{"resourceType":"Patient"}', '{"resourceType":"Bundle","type":"collection"}']) {
      assertOutcome(await send(sender, payload), 'rejected', 'FHIR_PAYLOAD_INVALID');
    }
    assert.equal(fhir.requests.length, before);
  });
});
