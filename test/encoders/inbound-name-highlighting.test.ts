/**
 * Issue 13 rule 6 on highlighting in PID-5: `\H\`/`\N\` in the family or a given name go out in
 * the ORU^R01 where they were sent; the FHIR Patient's name drops them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Patient } from '@medplum/fhirtypes';
import { MSH, through } from './inbound-support.ts';

const message = [
  MSH,
  'PID|1||000731^^^NORTH^MR||\\H\\Doe\\N\\^Jane^Ann \\H\\Marie\\N\\||19800102|F',
  'OBR|1||FIL-5|GLU^Glucose^99LAB|||20261120091000+0100||||||||||||||||||F',
  'OBX|1|NM|GLU^Glucose^99LAB||5.4|mmol/L|3.9-6.1|N|||F',
];

test('ORU^R01: PID-5 keeps its highlighting where it was sent', () => {
  assert.equal(through(message).oru.segment('PID')!.raw(5), '\\H\\Doe\\N\\^Jane^Ann \\H\\Marie\\N\\');
});

test('FHIR: the name without highlighting', () => {
  const [patient] = through(message).resources<Patient>('Patient');
  assert.deepEqual(patient!.name, [{ family: 'Doe', given: ['Jane', 'Ann Marie'] }]);
});
