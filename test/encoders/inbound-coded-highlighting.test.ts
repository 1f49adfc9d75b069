/**
 * Issue 13 rule 6 on highlighting in coded elements: `\H\`/`\N\` in the text components of a
 * CE/CWE (OBR-4, OBX-3, a coded OBX-5, OBX-6, OBX-8; CWE-2, -5, -11 and the original text
 * CWE-9) go out in the ORU^R01 where they were sent; FHIR text and displays drop them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiagnosticReport, Observation } from '@medplum/fhirtypes';
import { MSH, PID, through } from './inbound-support.ts';

const message = [
  MSH,
  PID,
  'OBR|1||FIL-2|CULT^\\H\\Urine\\N\\ culture^99LAB|||20261120091000+0100||||||||||||||||||F',
  'OBX|1|CWE|ORG^\\H\\Organism\\N\\ identified^99LAB^600-7^Bacteria identified^LN||ECOLI^\\H\\E. coli\\N\\^99LAB^112283007^Escherichia \\H\\coli\\N\\^SCT^^^E. coli \\H\\heavy\\N\\ growth||||||F',
  'OBX|2|NM|CFU^Colony count^99LAB||100000|{CFU}/mL^\\H\\CFU\\N\\/mL^UCUM||A^\\H\\Abnormal\\N\\^HL70078|||F',
];

test('ORU^R01: highlighting in every text component of a coded element goes back where it was sent', () => {
  const { oru } = through(message);
  const [obx1, obx2] = oru.segments.filter((s) => s.name === 'OBX');
  assert.equal(oru.segment('OBR')!.raw(4), 'CULT^\\H\\Urine\\N\\ culture^99LAB');
  assert.equal(obx1!.raw(3), 'ORG^\\H\\Organism\\N\\ identified^99LAB^600-7^Bacteria identified^LN');
  assert.equal(obx1!.raw(5), 'ECOLI^\\H\\E. coli\\N\\^99LAB^112283007^Escherichia \\H\\coli\\N\\^SCT^^^E. coli \\H\\heavy\\N\\ growth');
  assert.equal(obx2!.raw(6), '{CFU}/mL^\\H\\CFU\\N\\/mL^UCUM');
  assert.equal(obx2!.raw(8), 'A^\\H\\Abnormal\\N\\^HL70078');
});

test('FHIR: the same texts without highlighting', () => {
  const t = through(message);
  const [o1, o2] = t.resources<Observation>('Observation');
  assert.deepEqual(t.resources<DiagnosticReport>('DiagnosticReport')[0]!.code.coding?.[0]?.display, 'Urine culture');
  assert.equal(o1!.code.coding?.find((c) => c.code === 'ORG')?.display, 'Organism identified');
  assert.equal(o1!.valueCodeableConcept?.text, 'E. coli heavy growth');
  assert.deepEqual(o1!.valueCodeableConcept?.coding?.map((c) => c.display), ['E. coli', 'Escherichia coli']);
  assert.equal(o2!.valueQuantity?.unit, 'CFU/mL');
  assert.equal(o2!.interpretation?.[0]?.coding?.[0]?.display, 'Abnormal');
});
