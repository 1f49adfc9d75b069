import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, BundleEntry, Observation, Resource } from '@medplum/fhirtypes';
import { type FhirServerPeer, startFhirServer } from './index.ts';

/**
 * What Medplum's FhirRouter (5.0.10) does with the Bundles an encoder writes: facts the FHIR
 * Bundle encoder relies on, kept as tests so an upgrade that changes them shows.
 */
let fhir: FhirServerPeer;
before(async () => {
  fhir = await startFhirServer();
});
after(() => fhir.close());

const uuid = (n: number) => `urn:uuid:${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

async function post(bundle: object): Promise<{ status: number; body: Bundle & { issue?: Array<{ details?: { text?: string } }> } }> {
  const res = await fetch(fhir.baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
  return { status: res.status, body: (await res.json()) as never };
}

function transaction(...entry: BundleEntry[]): Bundle {
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

const patient = (system: string, value: string): Resource => ({ resourceType: 'Patient', identifier: [{ system, value }] });
const observation = (subject: string): Observation => ({ resourceType: 'Observation', status: 'final', code: { text: 'K' }, subject: { reference: subject } });

async function total(type: string, query: string): Promise<number> {
  return (await fhir.search(type, query)).total ?? 0;
}

describe('Medplum FhirRouter quirks (peer self-test)', () => {
  it('urn:uuid references are rewritten only for lower-case RFC 4122 UUIDs', async () => {
    const upper = 'urn:uuid:ABCDEF01-0000-4000-8000-000000000000';
    const { body } = await post(
      transaction(
        { fullUrl: uuid(1), resource: patient('urn:q1', 'a'), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: uuid(2), resource: observation(uuid(1)), request: { method: 'POST', url: 'Observation' } },
        { fullUrl: upper, resource: patient('urn:q1', 'b'), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: uuid(3), resource: observation(upper), request: { method: 'POST', url: 'Observation' } },
        { fullUrl: 'urn:uuid:pat-1', resource: patient('urn:q1', 'c'), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: uuid(4), resource: observation('urn:uuid:pat-1'), request: { method: 'POST', url: 'Observation' } },
      ),
    );
    const subjects = body.entry!.filter((e) => e.resource?.resourceType === 'Observation').map((e) => (e.resource as Observation).subject?.reference);
    assert.match(subjects[0]!, /^Patient\/[0-9a-f-]{36}$/);
    // Stored as sent: dangling references, accepted without a word.
    assert.deepEqual(subjects.slice(1), [upper, 'urn:uuid:pat-1']);
  });

  it("ifNoneExist and conditional URLs are URL query strings: '+' and '&' must be percent-encoded, ',' escaped as '\\,'", async () => {
    const send = (value: string, query: string) =>
      post(transaction({ fullUrl: uuid(10), resource: patient('urn:q2', value), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=urn:q2|${query}` } }));
    for (let i = 0; i < 2; i++) await send('A+B', 'A+B'); // '+' reads as a space: never matches
    assert.equal(await total('Patient', 'identifier=urn:q2|A%2BB'), 2);
    for (let i = 0; i < 2; i++) await send('C+D', encodeURIComponent('C+D'));
    assert.equal(await total('Patient', 'identifier=urn:q2|C%2BD'), 1);
    for (let i = 0; i < 2; i++) await send('E,F', encodeURIComponent('E,F')); // ',' separates OR values
    assert.equal(await total('Patient', 'identifier=urn:q2|E\\,F'), 2);
    for (let i = 0; i < 2; i++) await send('G,H', encodeURIComponent('G\\,H'));
    assert.equal(await total('Patient', 'identifier=urn:q2|G\\,H'), 1);
    // A '|' in a value never matches, escaped as the spec says ('\|') or not: a duplicate per resend.
    for (let i = 0; i < 2; i++) await send('I|J', encodeURIComponent('I\\|J'));
    assert.equal(await total('Patient', 'identifier=urn:q2|I\\|J'), 0, 'no search finds it');
    const all = (await fhir.search('Patient')).entry ?? [];
    assert.equal(all.filter((e) => (e.resource as { identifier?: Array<{ value?: string }> }).identifier?.[0]?.value === 'I|J').length, 2);
  });

  it('conditional references (Patient?identifier=…) inside resources are not resolved', async () => {
    await post(transaction({ fullUrl: uuid(20), resource: patient('urn:q3', 'x'), request: { method: 'POST', url: 'Patient' } }));
    const { body } = await post(transaction({ fullUrl: uuid(21), resource: observation('Patient?identifier=urn:q3|x'), request: { method: 'POST', url: 'Observation' } }));
    assert.equal((body.entry![0]!.resource as Observation).subject?.reference, 'Patient?identifier=urn:q3|x');
  });

  it('conditional PUT (upsert) must not carry an id when nothing matches; absolute request URLs are not routed', async () => {
    const withId = { ...patient('urn:q4', 'y'), id: 'client-chosen' };
    const put = await post(transaction({ fullUrl: uuid(30), resource: withId, request: { method: 'PUT', url: 'Patient?identifier=urn:q4|y' } }));
    assert.deepEqual([put.status, put.body.issue?.[0]?.details?.text], [400, 'Cannot provide ID for create by update']);
    const absolute = await post(transaction({ fullUrl: uuid(31), resource: patient('urn:q4', 'z'), request: { method: 'POST', url: `${fhir.baseUrl}/Patient` } }));
    assert.equal(absolute.status, 404);
  });

  it('entry statuses are bare codes, locations Type/id; a matched conditional create answers 200 with the stored resource', async () => {
    const entry = { fullUrl: uuid(40), resource: { ...patient('urn:q5', 'w'), gender: 'female' }, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:q5|w' } };
    const first = await post(transaction(entry as BundleEntry));
    const again = await post(transaction({ ...entry, resource: { ...entry.resource, gender: 'male' } } as BundleEntry));
    assert.equal(first.body.entry![0]!.response!.status, '201');
    assert.match(first.body.entry![0]!.response!.location!, /^Patient\/[0-9a-f-]{36}$/);
    assert.equal(again.body.entry![0]!.response!.status, '200');
    assert.equal((again.body.entry![0]!.resource as { gender?: string }).gender, 'female', 'not updated');
  });

  it('validation is structural: unknown elements, wrong JSON types, bad date formats fail; codes and references are not checked', async () => {
    const outcome = async (resource: object) => {
      const { status, body } = await post(transaction({ fullUrl: uuid(50), resource: resource as Resource, request: { method: 'POST', url: (resource as Resource).resourceType } }));
      return status === 200 ? 'ok' : `${status} ${body.issue?.[0]?.details?.text}`;
    };
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'K' } };
    assert.equal(await outcome({ ...obs, foo: 1 }), '400 Invalid additional property "foo"');
    assert.equal(await outcome({ ...obs, valueQuantity: { value: '5.9' } }), '400 Invalid JSON type: expected number, but got string');
    assert.equal(await outcome({ ...obs, effectiveDateTime: '2025-13-45' }), '400 Invalid dateTime format');
    assert.equal(await outcome({ ...obs, issued: '2025-06-02T09:40:12' }), '400 Invalid instant format');
    assert.equal(await outcome({ resourceType: 'Observation', status: 'final' }), '400 Missing required property');
    assert.equal(await outcome({ ...obs, status: 'not-a-status' }), 'ok');
    assert.equal(await outcome({ resourceType: 'Patient', gender: 'x', birthDate: '1980-02-30' }), 'ok');
    assert.equal(await outcome({ ...obs, subject: { reference: 'Patient/does-not-exist' } }), 'ok');
    assert.equal(await outcome({ ...obs, valueString: 'a', valueQuantity: { value: 1 } }), 'ok');
  });
});
