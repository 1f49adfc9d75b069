/**
 * Issue 13 rule 2 on OBX-8 (a CWE from v2.7): a coded abnormal flag keeps its whole coding.
 * The ORU^R01 carries it as sent; FHIR interpretation keeps code, display and system (v3
 * ObservationInterpretation for a code of table 0078, else the system sent) and the text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { MSH, PID, through } from './inbound-support.ts';

const message = [
  MSH.replace('|2.5.1', '|2.7'),
  PID,
  'OBR|1||FIL-1|LIPID^Lipids^99LAB|||20261120091000+0100||||||||||||||||||F',
  'OBX|1|NM|2093-3^Cholesterol^LN||6.8|mmol/L|<5.2|H^Above high normal^HL70078^^^^^^high!|||F',
  'OBX|2|NM|2571-8^Triglyceride^LN||1.2|mmol/L|<1.7|OK^Within range^99LAB|||F',
  'OBX|3|NM|2085-9^HDL^LN||0.8|mmol/L|>1.0|L|||F',
];

const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

test('ORU^R01: a coded OBX-8 goes out with its triplet and original text; a bare flag as sent', () => {
  const obx = through(message).oru.segments.filter((s) => s.name === 'OBX');
  assert.deepEqual(
    obx.map((s) => s.raw(8)),
    ['H^Above high normal^HL70078^^^^^^high!', 'OK^Within range^99LAB', 'L'],
  );
});

test('FHIR: interpretation keeps code, display, system and the text', () => {
  const [chol, trig, hdl] = through(message, { codeSystems: { '99LAB': 'https://lab.example/cs' } }).resources<Observation>('Observation');
  assert.deepEqual(chol!.interpretation, [{ coding: [{ system: V3, code: 'H', display: 'Above high normal' }], text: 'high!' }]);
  assert.deepEqual(trig!.interpretation, [{ coding: [{ system: 'https://lab.example/cs', code: 'OK', display: 'Within range' }], text: 'Within range' }]);
  assert.deepEqual(hdl!.interpretation, [{ coding: [{ system: V3, code: 'L', display: 'Low' }], text: 'L' }]);
});
