/**
 * The mapping in a running channel: an MLLP listener on port 0 with `mapping: hl7v2-oru` and
 * no destinations. A good ORU^R01 is answered AA once its canonical reports are stored; a
 * bad one gets AE with an ERR per issue, its location in ERR-2; a resend is stored once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LabReport } from '../../../src/canonical/report.ts';
import { readAck } from '../../../src/protocols/hl7v2/index.ts';
import { MSH, mllpLabChannel, obx, oru, sample } from './support.ts';

describe('an MLLP channel with the hl7v2-oru mapping', () => {
  const lab = mllpLabChannel();
  const { send } = lab;
  const stored = async () => {
    const page = await lab.test.engine.store.listMessages({ channelId: 'lab-results', limit: 1000 });
    const views = await Promise.all(page.messages.reverse().map((m) => lab.test.engine.store.getMessage(m.id)));
    return views.map((view) => {
      const v = view!;
      return { sourceId: v.sourceId, sourceVersion: v.sourceVersion, status: v.status, report: v.canonical as LabReport, raw: v.rawInput };
    });
  };
  const storedFor = async (controlId: string) => (await stored()).filter((m) => m.sourceId.split('#')[0] === controlId);

  test('a good ORU^R01 is acknowledged AA and its canonical report is stored', async () => {
    const ack = await send(sample('01-poc-glucose-v23.hl7'));
    assert.deepEqual(readAck(ack), { code: 'AA', acknowledgedControlId: 'PG-000417', text: '' });
    const [m] = await storedFor('PG-000417');
    assert.ok(m);
    assert.equal(m.sourceId, 'PG-000417');
    assert.equal(m.status, 'received');
    assert.equal(m.report.id, 'P2611200417');
    assert.equal(m.report.observations[0]!.value, '7.9');
    assert.deepEqual(m.report.observations[0]!.comments, ['Patient not fasting (ate 07:30).']);
    assert.equal(m.raw, sample('01-poc-glucose-v23.hl7'), 'the raw input is kept as received');
  });

  test('a message with two orders is one AA and two stored reports; a resend is acknowledged and stored once', async () => {
    const text = sample('07-two-orders-urine-serology-v25.hl7');
    assert.equal(readAck(await send(text)).code, 'AA');
    assert.equal(readAck(await send(text)).code, 'AA');
    assert.deepEqual(
      (await storedFor('LL-0000981')).map((m) => [m.sourceId, m.report.id]),
      [
        ['LL-0000981#1', 'U26112400077'],
        ['LL-0000981#2', 'S26112400078'],
      ],
    );
  });

  test('a correction (new MSH-10) is stored as a new message for the same report id; CRLF over MLLP is fine', async () => {
    assert.equal(readAck(await send(sample('05-chemistry-final-v251.hl7'))).code, 'AA');
    assert.equal(readAck(await send(sample('06-chemistry-corrected-v251.hl7'))).code, 'AA');
    const [first] = await storedFor('CHEM-20261121-0412');
    const [corrected] = await storedFor('CHEM-20261121-0533');
    assert.equal(first!.report.id, corrected!.report.id);
    assert.deepEqual([first!.report.correction, corrected!.report.correction], [false, true]);
    assert.equal(readAck(await send(sample('03-blood-gas-v24-crlf.hl7'))).code, 'AA');
    assert.equal((await storedFor('BG-5512'))[0]!.report.observations.length, 11);
  });

  test('a reused MSH-10 with new results is not taken for a resend', async () => {
    const text = oru(obx({})).replace('CTRL-1', 'REUSED-1');
    assert.equal(readAck(await send(text)).code, 'AA');
    assert.equal(readAck(await send(text.replace('|5.4|', '|6.2|'))).code, 'AA');
    assert.deepEqual(
      (await storedFor('REUSED-1')).map((m) => m.report.observations[0]!.value),
      ['5.4', '6.2'],
    );
  });

  test('a bad result gets AE with one ERR per issue: ERR-2 location, ERR-3 table 0357 code, ERR-8 text; nothing is stored', async () => {
    const text = oru(obx({}), obx({ 1: '2', 3: '' }), obx({ 1: '3', 2: 'XY' })).replace('CTRL-1', 'BAD-1');
    const ack = await send(text);
    assert.equal(readAck(ack).code, 'AE');
    assert.equal(readAck(ack).acknowledgedControlId, 'BAD-1');
    const errs = ack.all('ERR');
    assert.deepEqual(
      errs.map((e) => [e.get(2, 1), e.get(2, 2), e.get(2, 3), e.get(3, 1), e.get(3, 3), e.get(4)]),
      [
        ['OBX', '2', '3', '101', 'HL70357', 'E'],
        ['OBX', '3', '2', '102', 'HL70357', 'E'],
      ],
    );
    assert.equal(errs[0]!.get(8), 'OBX[1]-3: OBX-3 (observation identifier) is empty: a result must say what was measured');
    assert.equal(errs[1]!.get(8), "OBX[2]-2: OBX-2 value type 'XY' is not supported; expected one of NM, SN, ST, TX, FT, CE, CWE, CNE, IS, ID, DT, TM, TS, DTM, ED");
    assert.deepEqual(await storedFor('BAD-1'), []);
  });

  test('another message type gets AE at MSH-9; an ED that is not Base64 at OBX-5.5', async () => {
    const adt = await send(`${MSH.replace('ORU^R01^ORU_R01', 'ADT^A01^ADT_A01').replace('CTRL-1', 'ADT-1')}\rPID|1||MRN-1`);
    assert.equal(readAck(adt).code, 'AE');
    const err = adt.segment('ERR')!;
    assert.deepEqual([err.get(2, 1), err.get(2, 2), err.get(2, 3), err.get(8)], ['MSH', '1', '9', 'MSH-9: expected ORU^R01, got ADT^A01']);
    const ed = await send(oru(obx({ 2: 'ED', 5: '^AP^PDF^Base64^not base64!' })).replace('CTRL-1', 'ED-1'));
    const edErr = ed.segment('ERR')!;
    assert.deepEqual([edErr.get(2, 1), edErr.get(2, 2), edErr.get(2, 3), edErr.get(2, 5)], ['OBX', '1', '5', '5']);
    // The channel keeps working after refusals.
    assert.equal(readAck(await send(oru(obx({})).replace('CTRL-1', 'AFTER-1'))).code, 'AA');
  });
});
