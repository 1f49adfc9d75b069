/**
 * Issue 13 rule 4 on OBR-25: an HL7 v2 order whose OBR-25 was empty and whose OBX-11 is W
 * (wrong patient: results sent before, now withdrawn). OBR-25 is required in the ORU^R01 and
 * table 0123 has no code for withdrawn results; X ("no results available, order canceled")
 * would tell the LIS the test was cancelled. It goes out as C, a correction to results; an
 * OBR-25 that was sent goes out as sent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiagnosticReport } from '@medplum/fhirtypes';
import { MSH, PID, through } from './inbound-support.ts';

const order = (obr25: string) => `OBR|1||FIL-1|GLU^Glucose^99LAB|||20261120091000+0100||||||||||||||||||${obr25}`;
const obx = 'OBX|1|NM|2345-7^Glucose^LN||6.1|mmol/L|3.6-6.0|H|||W';

test('ORU^R01: OBR-25 empty, OBX-11 W → OBR-25 C, OBX-11 W as sent', () => {
  const { oru } = through([MSH, PID, order(''), obx]);
  assert.equal(oru.segment('OBR')!.raw(25), 'C');
  assert.equal(oru.segment('OBX')!.raw(11), 'W');
});

test('ORU^R01: an OBR-25 the source sent goes out as sent', () => {
  assert.equal(through([MSH, PID, order('F'), obx]).oru.segment('OBR')!.raw(25), 'F');
});

test('FHIR: the report is entered-in-error', () => {
  const [dr] = through([MSH, PID, order(''), obx]).resources<DiagnosticReport>('DiagnosticReport');
  assert.equal(dr!.status, 'entered-in-error');
});
