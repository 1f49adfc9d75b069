/**
 * Issue 13, rule 8: an ORU^R01 whose order has no PID before it is refused, naming PID,
 * unless the mapping says `allowMissingPatient: true`. Over MLLP the refusal is an AE whose
 * ERR names segment PID with HL7 table 0357 code 100 (a required segment is missing).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readAck } from '../../../src/protocols/hl7v2/index.ts';
import { MSH, message, mllpLabChannel, OBR, obx, ORC, PID, refusal, report, settings } from './support.ts';

const NO_PID = message(MSH, ORC, OBR, obx({}));
const WHY = 'a result must name its patient (set allowMissingPatient: true in the mapping for senders whose results have none)';

test('a message without PID is refused at PID, by default', () => {
  assert.equal(settings({}).allowMissingPatient, false);
  const e = refusal(NO_PID);
  assert.equal(e.code, 'INPUT_INVALID');
  assert.deepEqual(e.issues, [{ path: 'PID', hl7: { segment: 'PID' }, code: 'segment_missing', message: `no PID segment: ${WHY}` }]);
});

test('an order before the first PID is refused, naming that order', () => {
  const second = OBR.replace('OBR|1|PLC-1|FIL-1', 'OBR|2|PLC-2|FIL-2');
  assert.deepEqual(refusal(message(MSH, ORC, OBR, obx({}), PID, ORC, second, obx({}))).issues, [
    { path: 'PID', hl7: { segment: 'PID' }, code: 'segment_missing', message: `no PID segment before OBR[0]: ${WHY}` },
  ]);
});

test('with allowMissingPatient: true the report has no patient', () => {
  const r = report(NO_PID, settings({ allowMissingPatient: true }));
  assert.equal(r.patient, undefined);
  assert.equal(r.id, 'FIL-1');
});

describe('over MLLP', () => {
  const lab = mllpLabChannel();

  test('the AE has an ERR naming PID with table 0357 code 100, and nothing is stored', async () => {
    const ack = await lab.send(NO_PID);
    assert.equal(readAck(ack).code, 'AE');
    const err = ack.segment('ERR')!;
    assert.equal(err.get(2, 1), 'PID');
    assert.deepEqual([err.get(3, 1), err.get(3, 2), err.get(3, 3)], ['100', 'Segment sequence error', 'HL70357']);
    assert.match(err.get(8), /^PID: no PID segment: a result must name its patient/);
    assert.equal((await lab.test.engine.store.listMessages({ channelId: 'lab-results', limit: 10 })).messages.length, 0);
  });
});
