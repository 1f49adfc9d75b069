/** PID and PV1: identifiers, names, birth date and sex; PV1 only with an encounter. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OruR01Settings } from '../../src/encoders/oru-r01/settings.ts';
import { encodeAndParse, names, report } from './support.ts';

test('PID-3 has one repetition per identifier: value^^^assigning authority^type', () => {
  const pid = encodeAndParse(report()).segment('PID')!;
  assert.equal(pid.get(1), '1');
  assert.equal(pid.raw(3), 'pat_19XK2^^^CATENIX^PI~MRN-004211^^^MRN^MR');
  assert.deepEqual(pid.components(3, 0), ['pat_19XK2', '', '', 'CATENIX', 'PI']);
  assert.deepEqual(pid.components(3, 1), ['MRN-004211', '', '', 'MRN', 'MR']);
});

test('an identifier without system or type has only its value', () => {
  const r = report();
  r.patient = { ...r.patient!, identifiers: [{ value: 'ONLY-VALUE' }] };
  assert.equal(encodeAndParse(r).segment('PID')!.raw(3), 'ONLY-VALUE');
});

test('PID-5 is family^first given^other given names joined with spaces', () => {
  const r = report();
  r.patient = { ...r.patient!, given: ['Thi', 'Mai', 'Anh'] };
  const pid = encodeAndParse(r).segment('PID')!;
  assert.deepEqual(pid.components(5), ['Nguyen', 'Thi', 'Mai Anh']);
  assert.equal(encodeAndParse(report()).segment('PID')!.raw(5), 'Nguyen^Thi^Mai');
});

test('a family name alone, or given names alone, fill only their components', () => {
  const r = report();
  r.patient = { ...r.patient!, given: [] };
  assert.equal(encodeAndParse(r).segment('PID')!.raw(5), 'Nguyen');
  r.patient = { ...r.patient!, family: undefined, given: ['Mai'] };
  assert.equal(encodeAndParse(r).segment('PID')!.raw(5), '^Mai');
});

test('a patient without a name gets PID-5 with name type U (unspecified), as PID-5 is required', () => {
  const r = report();
  r.patient = { id: 'pat_1', identifiers: [{ value: 'pat_1', system: 'CATENIX', type: 'PI' }], given: [] };
  const pid = encodeAndParse(r).segment('PID')!;
  assert.equal(pid.raw(5), '^^^^^^U');
  assert.equal(pid.get(5, 7), 'U');
  assert.equal(pid.get(5, 1), '');
});

test('an empty family name counts as no name', () => {
  const r = report();
  r.patient = { ...r.patient!, family: '', given: [] };
  assert.equal(encodeAndParse(r).segment('PID')!.get(5, 7), 'U');
});

test('PID-7 is the birth date without dashes, at its precision', () => {
  const birth = (birthDate: string | undefined) => {
    const r = report();
    r.patient = { ...r.patient!, birthDate };
    return encodeAndParse(r).segment('PID')!.raw(7);
  };
  assert.equal(birth('1984-03-07'), '19840307');
  assert.equal(birth('1984-03'), '198403');
  assert.equal(birth('1984'), '1984');
  assert.equal(birth(undefined), '');
});

test('PID-8 is the HL7 table 0001 code of the sex', () => {
  for (const [sex, code] of [
    ['female', 'F'],
    ['male', 'M'],
    ['other', 'O'],
    ['unknown', 'U'],
  ] as const) {
    const r = report();
    r.patient = { ...r.patient!, sex };
    assert.equal(encodeAndParse(r).segment('PID')!.get(8), code, sex);
  }
  const r = report();
  r.patient = { ...r.patient!, sex: undefined };
  assert.equal(encodeAndParse(r).segment('PID')!.raw(8), '');
});

test('PV1 carries the encounter id in PV1-19 and the configured patient class in PV1-2', () => {
  const pv1 = encodeAndParse(report()).segment('PV1')!;
  assert.equal(pv1.get(1), '1');
  assert.equal(pv1.get(2), 'O');
  assert.equal(pv1.get(19), 'enc_3K9QX');
  const emergency = encodeAndParse(report(), OruR01Settings.parse({ patientClass: 'E' })).segment('PV1')!;
  assert.equal(emergency.get(2), 'E');
});

test('no encounter: no PV1', () => {
  assert.deepEqual(names(encodeAndParse(report({ encounter: undefined }))), ['MSH', 'PID', 'ORC', 'OBR', 'OBX', 'OBX']);
});

test('no patient: neither PID nor PV1 (PV1 belongs to the patient group), even with an encounter', () => {
  assert.deepEqual(names(encodeAndParse(report({ patient: undefined }))), ['MSH', 'ORC', 'OBR', 'OBX', 'OBX']);
});
