/**
 * Issue 13 rule 5 beyond OBX-5..8: `""` (the HL7 null, "delete this value") in any field the
 * mapping reads (PID-3/5/7/8, PV1-19, ORC/OBR-2/3, OBR-7/22, OBX-14/16/18, NTE-3) is not
 * refused and not taken as text: the ORU^R01 writes `""` back in place, FHIR leaves the
 * element out (never the literal `""`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MSH, through } from './inbound-support.ts';

const message = [
  MSH,
  'PID|1||000731^^^NORTH^MR||""||""|""',
  'PV1|1|O|||||||||||||||||""',
  'ORC|RE|""|FIL-9',
  'OBR|1|""|FIL-9|NA^Sodium^99LAB|||""|||||||||||||||""|||F',
  'NTE|1|L|""',
  'OBX|1|NM|2951-2^Sodium^LN||139|mmol/L|136-145||||F|||""||""||""',
  'NTE|1|L|""',
];

test('ORU^R01: every `""` goes back where it was sent', () => {
  const { oru } = through(message);
  const pid = oru.segment('PID')!;
  assert.deepEqual([pid.raw(3), pid.raw(5), pid.raw(7), pid.raw(8)], ['000731^^^NORTH^MR', '""', '""', '""']);
  assert.equal(oru.segment('PV1')!.raw(19), '""');
  assert.deepEqual([oru.segment('ORC')!.raw(2), oru.segment('ORC')!.raw(3)], ['""', 'FIL-9']);
  const obr = oru.segment('OBR')!;
  assert.deepEqual([obr.raw(2), obr.raw(3), obr.raw(7), obr.raw(22)], ['""', 'FIL-9', '""', '""']);
  const obx = oru.segment('OBX')!;
  assert.deepEqual([obx.raw(14), obx.raw(16), obx.raw(18)], ['""', '""', '""']);
  assert.deepEqual(
    oru.segments.filter((s) => s.name === 'NTE').map((s) => s.raw(3)),
    ['""', '""'],
  );
});

test('a PID-3 sent as `""` goes back as `""` in the ORU^R01, and is no identifier in FHIR', () => {
  const { oru, report, bundle } = through([MSH, 'PID|1||""||Doe^Jane', 'OBR|1||FIL-9|NA^Sodium^99LAB|||20261120091000+0100||||||||||||||||||F', 'OBX|1|NM|2951-2^Sodium^LN||139|mmol/L|||||F']);
  assert.equal(oru.segment('PID')!.raw(3), '""');
  assert.deepEqual(report.patient?.identifiers, []);
  assert.equal(JSON.stringify(bundle).includes('\\"\\"'), false);
});

test('FHIR: no element holds the literal `""`, and nothing is refused', () => {
  const t = through(message);
  assert.equal(JSON.stringify(t.bundle).includes('\\"\\"'), false);
  const r = t.report;
  assert.equal(r.patient?.family, undefined);
  assert.equal(r.patient?.birthDate, undefined);
  assert.equal(r.patient?.sex, undefined);
  assert.equal(r.encounter, undefined);
  assert.equal(r.order?.id, undefined);
  assert.equal(r.operator, undefined);
  assert.equal(r.device, undefined);
  assert.equal(r.observations[0]!.observedAt, undefined);
  assert.deepEqual(t.resources('Encounter'), []);
});
