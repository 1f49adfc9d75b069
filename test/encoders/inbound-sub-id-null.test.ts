/**
 * Issue 13 rule 5 for OBX-4: a sub-id sent as the HL7 null `""` goes back as sent in the ORU^R01
 * (a component `""` elsewhere is no value, but OBX-4 ties results together and is passed on
 * verbatim).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MSH, PID, through } from './inbound-support.ts';

test('ORU^R01: OBX-4 "" goes back as ""', () => {
  const { oru } = through([
    MSH,
    PID,
    'OBR|1||FIL-6|GLU^Glucose^99LAB|||20261120091000+0100||||||||||||||||||F',
    'OBX|1|NM|GLU^Glucose^99LAB|""|5.4|mmol/L|3.9-6.1|N|||F',
  ]);
  assert.equal(oru.segment('OBX')!.raw(4), '""');
});
