/**
 * Issue 13 rule 2 on a repeated coded OBX-5: every repetition is kept. The ORU^R01 carries
 * them as sent; in FHIR each is a component with the observation's code, and the Observation
 * has no value[x] (one CodeableConcept cannot hold two concepts, and obs-7 forbids a value
 * beside a component with the observation's code).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { MSH, PID, through } from './inbound-support.ts';

const message = [
  MSH,
  PID,
  'OBR|1||FIL-1|UCULT^Urine culture^99LAB|||20261120091000+0100||||||||||||||||||F',
  'OBX|1|CWE|630-4^Bacteria identified^LN||112283007^Escherichia coli^SCT~ESBL^ESBL producer^99LAB^^^^^^ESBL positive||||||F',
];

test('ORU^R01: every repetition of a coded OBX-5 goes out as sent', () => {
  const { oru } = through(message);
  assert.equal(oru.segment('OBX')!.raw(5), '112283007^Escherichia coli^SCT~ESBL^ESBL producer^99LAB^^^^^^ESBL positive');
});

test('FHIR: every repetition is a component with the observation code, and the Observation has no value of its own (obs-7)', () => {
  const [o] = through(message, { codeSystems: { '99LAB': 'https://lab.example/cs' } }).resources<Observation>('Observation');
  assert.equal(o!.valueCodeableConcept, undefined);
  assert.equal(o!.dataAbsentReason, undefined);
  assert.deepEqual(o!.component, [
    {
      code: o!.code,
      valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '112283007', display: 'Escherichia coli' }], text: 'Escherichia coli' },
    },
    {
      code: o!.code,
      valueCodeableConcept: { coding: [{ system: 'https://lab.example/cs', code: 'ESBL', display: 'ESBL producer' }], text: 'ESBL positive' },
    },
  ]);
});

test('FHIR: a coded value sent once has no component', () => {
  const [o] = through([...message.slice(0, 3), 'OBX|1|CWE|630-4^Bacteria identified^LN||112283007^Escherichia coli^SCT||||||F']).resources<Observation>('Observation');
  assert.equal(o!.component, undefined);
  assert.equal(o!.valueCodeableConcept!.text, 'Escherichia coli');
});
