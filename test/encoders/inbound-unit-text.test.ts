/**
 * Issue 13 rule 2 on OBX-6: a unit is a CE/CWE, so its text and every triplet survive. The
 * ORU^R01 carries OBX-6 as sent; FHIR valueQuantity has the text as unit and UCUM as
 * system/code where the coding system is UCUM.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { MSH, PID, through } from './inbound-support.ts';

const message = [
  MSH,
  PID,
  'OBR|1||FIL-1|PT^Prothrombin time^99LAB|||20261120091000+0100||||||||||||||||||F',
  'OBX|1|NM|5902-2^PT^LN||12.1|s^second^UCUM|9.4-12.5||||F',
  'OBX|2|NM|6301-6^INR^LN||1.1|RATIO^ratio^99LAB^{INR}^INR^UCUM|||||F',
  'OBX|3|NM|777-3^Platelets^LN||250|10*9/L|150-400||||F',
  'OBX|4|NM|2345-7^Glucose^LN||98|mg/dL^^^^^^^^milligrams per decilitre|70-99||||F',
];

test('ORU^R01: OBX-6 goes out as sent, text and alternate triplet included', () => {
  const { oru } = through(message);
  const obx = oru.segments.filter((s) => s.name === 'OBX');
  assert.deepEqual(
    obx.map((s) => s.raw(6)),
    ['s^second^UCUM', 'RATIO^ratio^99LAB^{INR}^INR^UCUM', '10*9/L', 'mg/dL^^^^^^^^milligrams per decilitre'],
  );
});

test('FHIR: valueQuantity.unit is the unit text, system and code UCUM where the coding system is UCUM', () => {
  const [pt, inr, plt, glu] = through(message).resources<Observation>('Observation');
  assert.deepEqual(pt!.valueQuantity, { value: 12.1, unit: 'second', system: 'http://unitsofmeasure.org', code: 's' });
  assert.deepEqual(inr!.valueQuantity, { value: 1.1, unit: 'ratio', system: 'http://unitsofmeasure.org', code: '{INR}' });
  assert.deepEqual(plt!.valueQuantity!.unit, '10*9/L');
  assert.equal(glu!.valueQuantity!.unit, 'milligrams per decilitre');
  assert.equal(pt!.referenceRange![0]!.low!.unit, 'second');
});
