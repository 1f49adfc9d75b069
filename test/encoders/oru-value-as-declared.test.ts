/**
 * Issue 13 rules 5 and 7 in the ORU^R01: a value keeps the type its sender declared (an NM
 * with padding stays NM, as FHIR gets a number; an ST '5.4' stays ST), a value its declared
 * type cannot carry is retyped with a warning, never silently; the HL7 null `""` goes back as
 * `""` where it was sent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOruR01Encoder } from '../../src/encoders/oru-r01/encode.ts';
import type { Encoded } from '../../src/encoders/types.ts';
import { mapOruR01 } from '../../src/mapping/hl7v2-oru/index.ts';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { SETTINGS as HL7_SETTINGS, obx, oru } from '../mapping/hl7v2-oru/support.ts';
import { CTX, SETTINGS } from './support.ts';

/** The ORU^R01 an inbound ORU^R01 becomes, with the encoder's warnings. */
function relay(...obxs: string[]): { obx: Hl7Message['segments']; warnings: readonly string[] } {
  const [mapped] = mapOruR01(oru(...obxs), HL7_SETTINGS);
  const out = createOruR01Encoder(SETTINGS).encode(mapped!.report, CTX) as Encoded;
  return { obx: Hl7Message.parse(out.payload).all('OBX'), warnings: out.warnings ?? [] };
}

test('an NM with surrounding spaces stays NM, its padding dropped; no warning', () => {
  const { obx: [o], warnings } = relay(obx({ 2: 'NM', 5: '5.40 ' }));
  assert.deepEqual([o!.get(2), o!.raw(5)], ['NM', '5.40']);
  assert.deepEqual(warnings, []);
  const { obx: [two] } = relay(obx({ 2: 'NM', 5: ' 27~25 ' }));
  assert.deepEqual([two!.get(2), two!.raw(5)], ['NM', '27~25']);
});

test('declared types are kept: ST "5.4" is not turned into NM, SN "^182" stays SN, DT goes back to HL7 form', () => {
  const { obx: segs, warnings } = relay(
    obx({ 2: 'ST', 5: '5.4' }),
    obx({ 1: '2', 2: 'SN', 5: '^182' }),
    obx({ 1: '3', 2: 'SN', 5: '<^0.5' }),
    obx({ 1: '4', 2: 'DT', 5: '20261120' }),
    obx({ 1: '5', 2: 'TX', 5: 'line 1~line 2' }),
  );
  assert.deepEqual(
    segs.slice(0, 4).map((s) => [s.get(2), s.raw(5)]),
    [
      ['ST', '5.4'],
      ['SN', '^182'],
      ['SN', '<^0.5'],
      ['DT', '20261120'],
    ],
  );
  assert.equal(segs[4]!.get(2), 'TX');
  assert.deepEqual(warnings, []);
});

test('an NM that is not a number is sent by its text, with a warning naming the observation, not the value', () => {
  const { obx: [o], warnings } = relay(obx({ 2: 'NM', 5: '>90' }));
  assert.deepEqual([o!.get(2), o!.raw(5)], ['SN', '>^90']);
  assert.deepEqual(warnings, ['observation 1 (OBX-2): declared NM, sent as SN: the value is not a NM']);
});

test('"" in OBX-5, -6, -7 and -8 goes back as "", with the declared OBX-2; empty fields stay empty', () => {
  const { obx: [o] } = relay(obx({ 2: 'NM', 5: '""', 6: '""', 7: '""', 8: '""', 11: 'D' }));
  assert.deepEqual([o!.get(2), o!.raw(5), o!.raw(6), o!.raw(7), o!.raw(8), o!.get(11)], ['NM', '""', '""', '""', '""', 'D']);
  const { obx: [e], warnings } = relay(obx({ 2: 'NM', 5: '', 7: '', 8: '', 11: 'I' }));
  assert.deepEqual([e!.get(2), e!.raw(5), e!.raw(7), e!.raw(8)], ['NM', '', '', ''], 'a pending NM stays NM');
  assert.deepEqual(warnings, []);
});
