/**
 * Issue 13 rules 2 and 6 for rare shapes: a coded element sent with text but no code (CWE-1
 * empty, the text in CWE-2) in OBX-6, OBX-8 or one repetition of a coded OBX-5. The ORU^R01
 * keeps it as sent, in its place; FHIR gives its text only, never as a code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { MSH, PID, through } from './inbound-support.ts';

const message = [
  MSH,
  PID,
  'OBR|1||FIL-4|CULT^Culture^99LAB|||20261120091000+0100||||||||||||||||||F',
  'OBX|1|CWE|ORG^Organism^99LAB||^Mixed skin flora^99LAB~112283007^Escherichia coli^SCT||||||F',
  'OBX|2|NM|CFU^Colony count^99LAB||100000|^colonies per mL^99LAB||^Significant growth^99LAB|||F',
];

test('ORU^R01: text sent without a code stays in CWE-2, each repetition in its place', () => {
  const { oru } = through(message);
  const [obx1, obx2] = oru.segments.filter((s) => s.name === 'OBX');
  assert.equal(obx1!.raw(5), '^Mixed skin flora^99LAB~112283007^Escherichia coli^SCT');
  assert.equal(obx2!.raw(6), '^colonies per mL^99LAB');
  assert.equal(obx2!.raw(8), '^Significant growth^99LAB');
});

test('FHIR: that text as text only, the coded repetition with its coding', () => {
  const t = through(message);
  const [o1, o2] = t.resources<Observation>('Observation');
  assert.deepEqual(
    o1!.component?.map((c) => c.valueCodeableConcept),
    [{ text: 'Mixed skin flora' }, { coding: [{ system: 'http://snomed.info/sct', code: '112283007', display: 'Escherichia coli' }], text: 'Escherichia coli' }],
  );
  assert.equal(o2!.valueQuantity?.unit, 'colonies per mL');
  assert.equal(o2!.valueQuantity?.code, undefined);
  assert.deepEqual(o2!.interpretation, [{ text: 'Significant growth' }]);
});
