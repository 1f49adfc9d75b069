/**
 * Issue 13 rule 5 at component level: a component sent as the HL7 null `""` (PID-5 `""^Jane`,
 * a component of a CWE) is no value there: FHIR leaves it out (never the text `""`), the
 * ORU^R01 writes `""` back in its place.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { MSH, through } from './inbound-support.ts';

const message = [
  MSH,
  'PID|1||000731^^^NORTH^MR||""^Jane^""||19800102|F',
  'OBR|1||FIL-3|GLU^Glucose^99LAB|||20261120091000+0100||||||||||||||||||F',
  'OBX|1|NM|GLU^Glucose^""^2345-7^""^LN||5.4|mmol/L^""^UCUM|3.9-6.1|N^""^HL70078|||F',
  'OBX|2|CWE|CULT^Culture^99LAB||NEG^Negative^99LAB^^^^^^""||||||F',
];

test('ORU^R01: each component sent as "" goes back as "" in its place', () => {
  const { oru } = through(message);
  const [obx1, obx2] = oru.segments.filter((s) => s.name === 'OBX');
  assert.equal(oru.segment('PID')!.raw(5), '""^Jane^""');
  assert.equal(obx1!.raw(3), 'GLU^Glucose^""^2345-7^""^LN');
  assert.equal(obx1!.raw(6), 'mmol/L^""^UCUM');
  assert.equal(obx2!.raw(5), 'NEG^Negative^99LAB^^^^^^""');
});

test('FHIR: no component becomes the text ""', () => {
  const t = through(message);
  const [patient] = t.resources<Patient>('Patient');
  assert.deepEqual(patient!.name, [{ given: ['Jane'] }]);
  const [o1, o2] = t.resources<Observation>('Observation');
  assert.ok(!JSON.stringify(t.bundle).includes('\\"\\"'), 'no "" anywhere in the bundle');
  assert.deepEqual(o1!.code.coding?.map((c) => c.display), [undefined, 'Glucose']);
  assert.equal(o1!.valueQuantity?.unit, 'mmol/L');
  assert.equal(o2!.valueCodeableConcept?.text, 'Negative');
});
