/**
 * Issue 8 / issue 13 rule 4: an OBX-11 or OBR-25 code that HL7 table 0085 / 0123 and the
 * mapping's own rows do not know is refused, naming the field and the code, and so is an
 * order that gives no status at all; it never becomes a status by guess.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issues, MSH, message, OBR, ORC, obx, oru, PID, refusal, report, settings } from './support.ts';

const noObr25 = (text: string) => text.replace('0100|||F', '0100|||');

test('an OBX-11 code outside table 0085 is refused at that OBX, with the code', () => {
  const text = oru(obx({ 11: 'F' }), obx({ 1: '2', 11: 'Z' }));
  assert.deepEqual(issues(text), ["OBX[1]-11: OBX-11 (observation result status) 'Z' is not in HL7 table 0085 or the mapping's observationStatuses: add a row there to say what it means"]);
  assert.equal(refusal(text).issues[0]!.code, 'invalid_value');
  // Own keys only: a code that is the name of an Object.prototype member is still unknown.
  assert.equal(issues(oru(obx({ 11: 'constructor' }))).length, 1);
});

test('an OBR-25 code outside table 0123 is refused; Y and Z (query answers) too', () => {
  for (const code of ['Q', 'Y', 'Z']) {
    assert.deepEqual(issues(oru(obx({})).replace('0100|||F', `0100|||${code}`)), [
      `OBR[0]-25: OBR-25 (result status) '${code}' is not in HL7 table 0123 or the mapping's resultStatuses: add a row there to say what it means`,
    ]);
  }
});

test('an explicit row says what a code means: the code is then kept as sent', () => {
  const o = report(oru(obx({ 11: 'Z' })), settings({ observationStatuses: { Z: 'preliminary' } })).observations[0]!;
  assert.deepEqual([o.status, o.statusText], ['preliminary', 'Z']);
  const r = report(oru(obx({})).replace('0100|||F', '0100|||Y'), settings({ resultStatuses: { Y: 'unknown' } }));
  assert.deepEqual([r.status, r.statusText], ['unknown', 'Y']);
});

test('an order with neither OBR-25 nor any OBX-11 is refused: it has no status to pass on', () => {
  assert.deepEqual(issues(noObr25(oru(obx({ 11: '' }), obx({ 1: '2', 11: '' })))), [
    'OBR[0]-25: OBR-25 (result status) is empty and no OBX-11 gives one: a result without a status cannot be passed on as final or as anything else',
  ]);
  assert.deepEqual(issues(noObr25(message(MSH, PID, ORC, OBR))), [
    'OBR[0]-25: OBR-25 (result status) is empty and the order has no OBX: a result without a status cannot be passed on as final or as anything else',
  ]);
  assert.equal(refusal(noObr25(message(MSH, PID, ORC, OBR))).issues[0]!.code, 'required');
});

test('the HL7 null "" in OBX-11 or OBR-25 is no status code: refused like an unknown one, never taken for "not sent"', () => {
  assert.deepEqual(issues(oru(obx({ 11: '""' }))), [
    `OBX[0]-11: OBX-11 (observation result status) '""' is not in HL7 table 0085 or the mapping's observationStatuses: add a row there to say what it means`,
  ]);
  assert.deepEqual(issues(oru(obx({})).replace('0100|||F', '0100|||""')), [
    `OBR[0]-25: OBR-25 (result status) '""' is not in HL7 table 0123 or the mapping's resultStatuses: add a row there to say what it means`,
  ]);
});
