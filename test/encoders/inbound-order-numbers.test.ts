/**
 * Issue 13 rule 3 on order numbers: OBR-2/3 and ORC-2/3 are EIs (entity id ^ namespace ^
 * universal id ^ its type). The ORU^R01 carries them whole; in FHIR the ServiceRequest's
 * (and the DiagnosticReport's filler) identifiers get their system from the universal id
 * (`urn:oid:…`) or the namespace, as patient identifiers do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiagnosticReport, ServiceRequest } from '@medplum/fhirtypes';
import { MSH, PID, through } from './inbound-support.ts';

const obx = 'OBX|1|NM|2951-2^Sodium^LN||139|mmol/L|136-145||||F';

test('ORU^R01: ORC-2/3 and OBR-2/3 go out with namespace, universal id and its type as sent', () => {
  const { oru } = through([
    MSH,
    PID,
    'ORC|RE|PLC-7^WARDPOE^2.16.840.1.113883.19.7^ISO|0004412^LABLIS^2.16.840.1.113883.19.9^ISO',
    'OBR|1|PLC-7^WARDPOE^2.16.840.1.113883.19.7^ISO|0004412^LABLIS^2.16.840.1.113883.19.9^ISO|NA^Sodium^99LAB|||20261120091000+0100||||||||||||||||||F',
    obx,
  ]);
  for (const name of ['ORC', 'OBR']) {
    const s = oru.segment(name)!;
    assert.equal(s.raw(2), 'PLC-7^WARDPOE^2.16.840.1.113883.19.7^ISO', `${name}-2`);
    assert.equal(s.raw(3), '0004412^LABLIS^2.16.840.1.113883.19.9^ISO', `${name}-3`);
  }
});

test('ORU^R01: an order number only in ORC keeps its namespace too', () => {
  const { oru } = through([MSH, PID, 'ORC|RE||A-88^LABLIS', 'OBR|1|||NA^Sodium^99LAB|||20261120091000+0100||||||||||||||||||F', obx]);
  assert.equal(oru.segment('OBR')!.raw(3), 'A-88^LABLIS');
});

test('FHIR: the system comes from the OID, else from the namespace through identifierSystems', () => {
  const t = through(
    [
      MSH,
      PID,
      'OBR|1|PLC-7^WARDPOE|0004412^LABLIS^2.16.840.1.113883.19.9^ISO|NA^Sodium^99LAB|||20261120091000+0100||||||||||||||||||F',
      obx,
    ],
    { identifierSystems: { WARDPOE: 'https://ward.example/orders' } },
  );
  const [sr] = t.resources<ServiceRequest>('ServiceRequest');
  assert.deepEqual(
    sr!.identifier!.map((i) => [i.type?.coding?.[0]?.code, i.system, i.value]),
    [
      ['PLAC', 'https://ward.example/orders', 'PLC-7'],
      ['FILL', 'urn:oid:2.16.840.1.113883.19.9', '0004412'],
    ],
  );
  const [dr] = t.resources<DiagnosticReport>('DiagnosticReport');
  assert.deepEqual(
    dr!.identifier!.map((i) => [i.system, i.value]),
    [
      ['urn:conduit:result-id', '0004412'],
      ['urn:oid:2.16.840.1.113883.19.9', '0004412'],
    ],
  );
});

test('FHIR: an order number without a universal id, its namespace not in identifierSystems, keeps the configured system', () => {
  const [sr] = through([MSH, PID, 'OBR|1|PLC-7^WARDPOE|0004412|NA^Sodium^99LAB|||20261120091000+0100||||||||||||||||||F', obx]).resources<ServiceRequest>('ServiceRequest');
  assert.deepEqual(
    sr!.identifier!.map((i) => i.system),
    ['urn:conduit:placer-order', 'urn:conduit:accession'],
  );
});
