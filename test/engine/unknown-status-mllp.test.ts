/**
 * Issue 8 / issue 13 rule 4, end to end over MLLP: an ORU^R01 whose OBX-11 is not in HL7
 * table 0085 (nor a row of the mapping) is answered AE with an ERR naming OBX-11 and the
 * code, and nothing is stored; with a known code the same message is accepted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readAck } from '../../src/protocols/hl7v2/index.ts';
import { mllpLabChannel, obx, oru } from '../mapping/hl7v2-oru/support.ts';

describe('MLLP: an unknown OBX-11 is refused with AE and an ERR naming OBX-11', () => {
  const lab = mllpLabChannel();
  const { send } = lab;
  const stored = async () => (await lab.test.engine.store.listMessages({ channelId: 'lab-results', limit: 100 })).messages.length;

  test('OBX-11 Z on the second OBX: AE, ERR-2 at OBX 2 field 11, ERR-8 names the code; nothing stored', async () => {
    const ack = await send(oru(obx({ 11: 'F' }), obx({ 1: '2', 11: 'Z' })).replace('CTRL-1', 'STATUS-Z'));
    assert.deepEqual([readAck(ack).code, readAck(ack).acknowledgedControlId], ['AE', 'STATUS-Z']);
    const errs = ack.all('ERR');
    assert.equal(errs.length, 1);
    const err = errs[0]!;
    assert.deepEqual([err.get(2, 1), err.get(2, 2), err.get(2, 3), err.get(3, 3), err.get(4)], ['OBX', '2', '11', 'HL70357', 'E']);
    assert.equal(err.get(8), "OBX[1]-11: OBX-11 (observation result status) 'Z' is not in HL7 table 0085 or the mapping's observationStatuses: add a row there to say what it means");
    assert.equal(await stored(), 0);
  });

  test('the same message with a table 0085 code is accepted', async () => {
    const ack = await send(oru(obx({ 11: 'F' }), obx({ 1: '2', 11: 'P' })).replace('CTRL-1', 'STATUS-P'));
    assert.equal(readAck(ack).code, 'AA');
    assert.equal(await stored(), 1);
  });
});
