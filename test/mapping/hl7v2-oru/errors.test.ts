/**
 * What the mapping refuses, each with its HL7 location (`OBX[2]-5`: segment, 0-based index
 * among segments of that type, field, component), its code and its exact message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../../src/errors.ts';
import { MSH, message, OBR, obx, ORC, oru, issues, PID, refusal, report, settings } from './support.ts';

const msh = (fields: Record<number, string>) => {
  const f = MSH.split('|');
  for (const [n, v] of Object.entries(fields)) f[Number(n) - 1] = v;
  return f.join('|');
};

test('a message type other than ORU^R01 is refused at MSH-9, and nothing else is reported', () => {
  const e = refusal(message(msh({ 9: 'ADT^A01^ADT_A01' }), PID, 'PV1|1|I'));
  assert.equal(e.code, 'INPUT_INVALID');
  assert.deepEqual(e.issues, [{ path: 'MSH-9', hl7: { segment: 'MSH', sequence: 1, field: 9 }, code: 'unsupported', message: 'expected ORU^R01, got ADT^A01' }]);
  assert.deepEqual(issues(oru(obx({})).replace('ORU^R01^ORU_R01', 'ORU')), ['MSH-9: expected ORU^R01, got ORU']);
  assert.deepEqual(issues(oru(obx({})).replace('ORU^R01^ORU_R01', '')), ['MSH-9: expected ORU^R01, got (empty)']);
  // acceptedMessageTypes lets an integrator take ORU^R30 (point-of-care, same structure).
  const r30 = oru(obx({})).replace('ORU^R01^ORU_R01', 'ORU^R30^ORU_R30');
  assert.deepEqual(issues(r30), ['MSH-9: expected ORU^R01, got ORU^R30']);
  assert.equal(report(r30, settings({ acceptedMessageTypes: ['ORU^R01', 'ORU^R30'] })).provenance.eventType, 'ORU^R30');
});

test('MSH-12 must name an accepted version; MSH-10 must be there', () => {
  assert.deepEqual(issues(oru(obx({})).replace('|P|2.5.1', '|P|')), ['MSH-12: MSH-12 (version id) is empty']);
  assert.deepEqual(issues(oru(obx({})).replace('|P|2.5.1', '|P|2.2')), [
    "MSH-12: MSH-12 version '2.2' is not accepted; expected one of 2.3, 2.3.1, 2.4, 2.5, 2.5.1, 2.6, 2.7, 2.7.1",
  ]);
  assert.equal(report(oru(obx({})).replace('|P|2.5.1', '|P|2.2'), settings({ acceptedVersions: ['2.2'] })).id, 'FIL-1');
  // VID: the version is its first component.
  assert.equal(report(oru(obx({})).replace('|P|2.5.1', '|P|2.5.1^USA')).id, 'FIL-1');
  const e = refusal(oru(obx({})).replace('|CTRL-1|', '||'));
  assert.deepEqual(e.issues, [{ path: 'MSH-10', hl7: { segment: 'MSH', sequence: 1, field: 10 }, code: 'required', message: 'MSH-10 (message control id) is empty: it is what makes a resend recognisable' }]);
});

test('text that is not HL7 v2 is refused as HL7_PARSE_FAILED', () => {
  const notHl7 = refusal('{"resourceType": "Bundle"}');
  assert.equal(notHl7.code, 'HL7_PARSE_FAILED');
  assert.deepEqual(notHl7.issues, [{ path: 'MSH', code: 'invalid_value', message: 'message does not start with an MSH segment' }]);
  const badSegment = refusal(oru('this is no segment'));
  assert.equal(badSegment.code, 'HL7_PARSE_FAILED');
  assert.match(badSegment.issues[0]!.message, /segment 5 does not start with a segment name/);
});

test('an ORU^R01 without OBR is refused; an OBX before any OBR is refused where it stands', () => {
  assert.deepEqual(refusal(message(MSH, PID)).issues, [
    { path: 'OBR', hl7: { segment: 'OBR' }, code: 'required', message: 'no OBR segment: an ORU^R01 carries its results in at least one order (OBR)' },
  ]);
  assert.deepEqual(issues(message(MSH, PID, obx({}), ORC, OBR, obx({}))), ['OBX[0]: OBX before any OBR: an observation must follow the OBR of its order']);
  // A second patient starts over: its OBX needs its own OBR.
  assert.deepEqual(issues(message(MSH, PID, ORC, OBR, obx({}), PID, obx({}))), ['OBX[1]: OBX before any OBR: an observation must follow the OBR of its order']);
});

test('a second MSH (a batch of messages in one input) is refused', () => {
  assert.deepEqual(issues(message(MSH, PID, ORC, OBR, obx({}), MSH, PID, ORC, OBR, obx({}))), [
    'MSH: a second MSH: one input must hold one message (batches are not accepted)',
  ]);
});

test('OBR-4 is required: an order must name its test or panel', () => {
  const e = refusal(message(MSH, PID, ORC, OBR, obx({}), 'OBR|2|PLC-2|FIL-2|||||', obx({})));
  assert.deepEqual(e.issues, [{ path: 'OBR[1]-4', hl7: { segment: 'OBR', sequence: 2, field: 4 }, code: 'required', message: 'OBR-4 (universal service identifier) is empty: the order names no test or panel' }]);
  assert.deepEqual(issues(oru(obx({})).replace('GLU^Glucose^L|||2026', '^Glucose^L|||2026')), [
    'OBR[0]-4: OBR-4 (universal service identifier) has no identifier (component 1, or 4 for the alternate code): the order names no test or panel',
  ]);
});

test('OBX-2: an unsupported value type is named; a value without a type is refused', () => {
  const e = refusal(oru(obx({}), obx({ 1: '2' }), obx({ 1: '3', 2: 'XY', 5: 'x' })));
  assert.deepEqual(e.issues, [
    { path: 'OBX[2]-2', hl7: { segment: 'OBX', sequence: 3, field: 2 }, code: 'unsupported', message: "OBX-2 value type 'XY' is not supported; expected one of NM, SN, ST, TX, FT, CE, CWE, CNE, IS, ID, DT, TM, TS, DTM, ED" },
  ]);
  for (const type of ['RP', 'CX', 'XCN', 'NA', 'MA', 'CP']) assert.match(issues(oru(obx({ 2: type })))[0]!, new RegExp(`^OBX\\[0\\]-2: OBX-2 value type '${type}'`));
  assert.deepEqual(refusal(oru(obx({ 2: '' }))).issues, [{ path: 'OBX[0]-2', hl7: { segment: 'OBX', sequence: 1, field: 2 }, code: 'required', message: 'OBX-2 (value type) is empty but OBX-5 has a value' }]);
  // No type and no value: an empty result line, accepted.
  assert.equal(report(oru(obx({ 2: '', 5: '' }))).observations[0]!.value, '');
});

test('OBX-3 is required: a result must say what was measured', () => {
  assert.deepEqual(refusal(oru(obx({ 3: '' }))).issues, [
    { path: 'OBX[0]-3', hl7: { segment: 'OBX', sequence: 1, field: 3 }, code: 'required', message: 'OBX-3 (observation identifier) is empty: a result must say what was measured' },
  ]);
  assert.deepEqual(issues(oru(obx({ 3: '^Glucose^L' }))), [
    'OBX[0]-3: OBX-3 (observation identifier) has no identifier (component 1, or 4 for the alternate code): a result must say what was measured',
  ]);
  // An alternate code alone identifies the result.
  assert.deepEqual(report(oru(obx({ 3: '^^^2345-7^Glucose^LN' }))).observations[0]!.code, { code: '2345-7', display: 'Glucose', system: 'LN' });
});

test('OBX-5 may be empty only when OBX-11 says there is no result (yet), or for a blank text line', () => {
  const refused = (type: string, status: string) => refusal(oru(obx({ 2: type, 5: '', 11: status }))).issues;
  assert.deepEqual(refused('NM', 'F'), [
    { path: 'OBX[0]-5', hl7: { segment: 'OBX', sequence: 1, field: 5 }, code: 'required', message: "OBX-5 is empty, but OBX-11 'F' does not say the result is pending, cancelled or deleted (I, O, X, N, D, W or U)" },
  ]);
  assert.equal(refused('CWE', 'P')[0]!.path, 'OBX[0]-5');
  assert.equal(refused('SN', 'C')[0]!.path, 'OBX[0]-5');
  assert.match(refused('NM', '')[0]!.message, /^OBX-5 is empty, but OBX-11 \(empty\) does not say/);
  for (const status of ['I', 'O', 'X', 'N', 'D', 'W', 'U']) {
    assert.equal(report(oru(obx({ 2: 'NM', 5: '', 11: status }))).observations[0]!.value, '', status);
  }
  for (const type of ['ST', 'TX', 'FT']) assert.equal(report(oru(obx({ 2: type, 5: '', 11: 'F' }))).observations[0]!.value, '', type);
});

test('ED: only Base64 is accepted, and the data must be Base64', () => {
  assert.deepEqual(refusal(oru(obx({ 2: 'ED', 3: 'PDF^Report^L', 5: '^AP^PDF^Hex^255044462D', 11: 'F' }))).issues, [
    { path: 'OBX[0]-5.4', hl7: { segment: 'OBX', sequence: 1, field: 5, component: 4 }, code: 'unsupported', message: "OBX-5.4 ED encoding 'Hex' is not supported; only Base64 is accepted" },
  ]);
  assert.deepEqual(refusal(oru(obx({ 2: 'ED', 3: 'PDF^Report^L', 5: '^AP^PDF^A^plain text', 11: 'F' }))).issues[0]!.path, 'OBX[0]-5.4');
  for (const data of ['JVBERi0x$$$', 'AAAAA', 'QQ=A', '=']) {
    assert.deepEqual(refusal(oru(obx({ 2: 'ED', 3: 'PDF^Report^L', 5: `^AP^PDF^Base64^${data}`, 11: 'F' }))).issues, [
      { path: 'OBX[0]-5.5', hl7: { segment: 'OBX', sequence: 1, field: 5, component: 5 }, code: 'invalid_value', message: 'OBX-5.5 ED data is not valid Base64' },
    ]);
  }
  // Empty ED data is a missing result, unless OBX-11 says none is coming.
  assert.equal(issues(oru(obx({ 2: 'ED', 5: '^AP^PDF^Base64^', 11: 'F' })))[0]!.split(':')[0], 'OBX[0]-5');
  assert.deepEqual(report(oru(obx({ 2: 'ED', 5: '^AP^PDF^Base64^', 11: 'X' }))).attachments, []);
});

test('date-times are checked field by field: form and range, with the field named', () => {
  const at = (text: string) => issues(text);
  assert.deepEqual(at(oru(obx({ 14: '2026-11-20' }))), ['OBX[0]-14: OBX-14 is not an HL7 date/time: expected YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]']);
  assert.deepEqual(at(oru(obx({ 14: '20261320' }))), ['OBX[0]-14: OBX-14 is not an HL7 date/time: month 13 is out of range']);
  assert.deepEqual(at(oru(obx({ 14: '20260230' }))), ['OBX[0]-14: OBX-14 is not an HL7 date/time: day 30 is out of range for the month']);
  assert.deepEqual(at(oru(obx({ 14: '202611202400' }))), ['OBX[0]-14: OBX-14 is not an HL7 date/time: hour 24 is out of range']);
  assert.deepEqual(at(oru(obx({ 14: '202611201260' }))), ['OBX[0]-14: OBX-14 is not an HL7 date/time: minute 60 is out of range']);
  assert.deepEqual(at(oru(obx({ 14: '20261120120000+2500' }))), ['OBX[0]-14: OBX-14 is not an HL7 date/time: UTC offset +2500 is out of range']);
  assert.deepEqual(at(oru(obx({ 2: 'DT', 5: '20261131' }))), ['OBX[0]-5: OBX-5 is not an HL7 date/time: day 31 is out of range for the month']);
  assert.deepEqual(at(oru(obx({})).replace('|20261120091000+0100|', '|2026112009100|')), [
    'OBR[0]-7: OBR-7 is not an HL7 date/time: expected YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]',
  ]);
  assert.deepEqual(at(oru(obx({})).replace('20261120091500+0100', 'yesterday')), ['MSH-7: MSH-7 is not an HL7 date/time: expected YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]']);
  // Leap years and leap seconds are dates.
  assert.equal(report(oru(obx({ 14: '20240229235960' }))).observations[0]!.observedAt, '2024-02-29T23:59:60');
});

test('PID-7 and PID-8 are checked without repeating the patient data in the message', () => {
  const e = refusal(oru(obx({})).replace('|19800102|F', '|19801302|Q'));
  assert.deepEqual(e.issues, [
    { path: 'PID[0]-7', hl7: { segment: 'PID', sequence: 1, field: 7 }, code: 'invalid_value', message: 'PID-7 (date of birth) is not a valid HL7 date: expected YYYY[MM[DD]] (a time may follow)' },
    { path: 'PID[0]-8', hl7: { segment: 'PID', sequence: 1, field: 8 }, code: 'invalid_value', message: "PID-8 (administrative sex) is not a code of HL7 table 0001 or the mapping's administrativeSex (F, M, O, U, A, N)" },
  ]);
  assert.ok(!/1980|13|'Q'|Doe/.test(e.message), e.message);
  assert.equal(report(oru(obx({})).replace('|19800102|F', '|19800102|X'), settings({ administrativeSex: { X: 'other' } })).patient?.sex, 'other');
  // Lower-case codes are read as the table's.
  assert.equal(report(oru(obx({})).replace('|19800102|F', '|19800102|m')).patient?.sex, 'male');
});

test('every problem of a message is reported in one pass, in message order, each at its own place', () => {
  const text = message(
    MSH,
    PID.replace('|F', '|Q'),
    ORC,
    OBR.replace('GLU^Glucose^L', ''),
    obx({ 2: 'XY' }),
    obx({ 1: '2', 3: '' }),
    'ORC|RE|PLC-2|FIL-2',
    'OBR|2|PLC-2|FIL-2|K^Potassium^L|||2026',
    obx({ 1: '1', 5: '', 11: 'F' }),
    obx({ 1: '2', 14: '20261399' }),
  );
  const e = refusal(text);
  assert.ok(e instanceof InputError);
  assert.deepEqual(
    e.issues.map((i) => [i.path, i.code]),
    [
      ['PID[0]-8', 'invalid_value'],
      ['OBR[0]-4', 'required'],
      ['OBX[0]-2', 'unsupported'],
      ['OBX[1]-3', 'required'],
      ['OBX[2]-5', 'required'],
      ['OBX[3]-14', 'invalid_value'],
    ],
  );
  assert.equal(e.location, 'PID[0]-8');
  assert.match(e.message, /^PID\[0\]-8: .*; OBR\[0\]-4: /);
});
