/**
 * Issue 13, rule 3: PID-3 identifiers keep their authority. CX-4 (namespace, universal id,
 * universal id type) is carried whole, CX-5 as sent, the value as text (leading zeros kept);
 * the system comes from the mapping's table, else the universal id as a URI, else the namespace.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MSH, message, OBR, obx, ORC, report, settings } from './support.ts';

const identifiers = (pid: string, s = settings({})) => report(message(MSH, pid, ORC, OBR, obx({})), s).patient?.identifiers;

test('CX-4 is kept whole and an ISO universal id becomes a urn:oid system; CX-5 and leading zeros as sent', () => {
  assert.deepEqual(identifiers('PID|1||000123^^^NORTH&2.16.840.1.113883.19.5&ISO^MR||Doe^Jane'), [
    {
      value: '000123',
      system: 'urn:oid:2.16.840.1.113883.19.5',
      type: 'MR',
      assigningAuthority: { namespace: 'NORTH', universalId: '2.16.840.1.113883.19.5', universalIdType: 'ISO' },
    },
  ]);
});

test('a URI or UUID universal id is the system; a DNS name or a malformed OID is not turned into a URI', () => {
  const systems = (pid: string) => identifiers(pid)?.map((i) => i.system);
  assert.deepEqual(systems('PID|1||A1^^^&https://north.example/mrn&URI^MR~B2^^^&6F1E2D3C-0000-4000-8000-00000000ABCD&UUID^PI'), [
    'https://north.example/mrn',
    'urn:uuid:6f1e2d3c-0000-4000-8000-00000000abcd',
  ]);
  assert.deepEqual(systems('PID|1||A1^^^NORTH&north.example&DNS^MR~B2^^^&1.2.x&ISO^PI'), ['NORTH', '1.2.x']);
});

test('patientIdentifierSystems, by namespace or universal id, wins over the universal id', () => {
  const s = settings({ patientIdentifierSystems: { NORTH: 'https://north.example/fhir/sid/mrn', '1.2.3': 'https://other.example/pi' } });
  const ids = identifiers('PID|1||A1^^^NORTH&2.16.840.1.113883.19.5&ISO^MR~B2^^^&1.2.3&ISO^PI', s);
  assert.deepEqual(
    ids?.map((i) => [i.system, i.assigningAuthority?.universalId]),
    [
      ['https://north.example/fhir/sid/mrn', '2.16.840.1.113883.19.5'],
      ['https://other.example/pi', '1.2.3'],
    ],
  );
});

test('an identifier without CX-4 has no authority; PID-2 (v2.3) is read the same way', () => {
  assert.deepEqual(identifiers('PID|1||0042^^^^PI||Doe'), [{ value: '0042', type: 'PI' }]);
  assert.deepEqual(identifiers('PID|1|E-07^^^OLD&1.2.840.99&ISO^PT||Doe'), [
    { value: 'E-07', system: 'urn:oid:1.2.840.99', type: 'PT', assigningAuthority: { namespace: 'OLD', universalId: '1.2.840.99', universalIdType: 'ISO' } },
  ]);
});
