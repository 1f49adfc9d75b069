/**
 * Issue 13 rules 4 and 5 in FHIR: an observation without a value gets a dataAbsentReason,
 * never valueString ''; a cancelled one (HL7 OBX-11 X) has no value, its text as sent kept as
 * the reason's text; the HL7 null `""` never becomes the text `""`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import type { Observation as CanonicalObservation } from '../../src/canonical/report.ts';
import type { Encoded } from '../../src/encoders/types.ts';
import { mapOruR01 } from '../../src/mapping/hl7v2-oru/index.ts';
import { SETTINGS as HL7_SETTINGS, obx, oru } from '../mapping/hl7v2-oru/support.ts';
import { fhirEncoder, repoTables } from './mapping-support.ts';
import { CTX, observation, report } from './support.ts';

const DAR = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';

function fhirObservations(observations: CanonicalObservation[], r = report({ observations })): Observation[] {
  const out = fhirEncoder({}, repoTables()).encoder.encode(r, CTX) as Encoded;
  return (JSON.parse(out.payload) as Bundle).entry!.map((e) => e.resource!).filter((x): x is Observation => x.resourceType === 'Observation');
}
const valueKeys = (o: Observation) => Object.keys(o).filter((k) => k.startsWith('value') || k === 'dataAbsentReason');

test('no value: dataAbsentReason by status, no value[x]', () => {
  const [pending, deleted] = fhirObservations([observation({ value: '', status: 'registered' }), observation({ value: '', status: 'entered-in-error' })]);
  assert.deepEqual(valueKeys(pending!), ['dataAbsentReason']);
  assert.deepEqual(pending!.dataAbsentReason, { coding: [{ system: DAR, code: 'temp-unknown', display: 'Temporarily Unknown' }] });
  assert.equal(deleted!.dataAbsentReason!.coding![0]!.code, 'unknown');
});

test('cancelled: no value even when text was sent; the text is the reason text', () => {
  const [o] = fhirObservations([observation({ value: 'not done', status: 'cancelled', unit: undefined })]);
  assert.deepEqual(valueKeys(o!), ['dataAbsentReason']);
  assert.deepEqual(o!.dataAbsentReason, { coding: [{ system: DAR, code: 'not-performed', display: 'Not Performed' }], text: 'not done' });
  assert.equal(o!.status, 'cancelled');
});

test('from HL7 v2: "" in OBX-5/-7/-8 gives no valueString, referenceRange or interpretation text ""', () => {
  const [mapped] = mapOruR01(oru(obx({ 5: '""', 7: '""', 8: '""', 11: 'D' })), HL7_SETTINGS);
  const [o] = fhirObservations(mapped!.report.observations, mapped!.report);
  assert.ok(!JSON.stringify(o).includes('""'), JSON.stringify(o));
  assert.deepEqual(valueKeys(o!), ['dataAbsentReason']);
  assert.deepEqual([o!.referenceRange, o!.interpretation, o!.status], [undefined, undefined, 'entered-in-error']);
});

test('from HL7 v2: OBX-11 X is cancelled with no value', () => {
  const [mapped] = mapOruR01(oru(obx({ 2: 'ST', 5: 'Haemolysed', 11: 'X' })), HL7_SETTINGS);
  const [o] = fhirObservations(mapped!.report.observations, mapped!.report);
  assert.deepEqual([o!.status, o!.valueString, o!.dataAbsentReason?.text], ['cancelled', undefined, 'Haemolysed']);
});
