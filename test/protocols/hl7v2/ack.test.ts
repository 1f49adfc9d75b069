/**
 * Acknowledgements: `buildAck` answers a message (original mode AA/AE/AR, enhanced mode
 * CA/CE/CR) with sender and receiver swapped, MSA-2 = MSH-10 and one ERR per error in the
 * v2.5 layout (ERR-2 location, ERR-3 table 0357 code, ERR-4 severity, ERR-8 text);
 * `readAck` reads an acknowledgement back and refuses what is not one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AckCode,
  AckFormatError,
  buildAck,
  DEFAULT_DELIMITERS,
  ErrorCondition,
  Hl7Message,
  Hl7ParseError,
  readAck,
} from '../../../src/protocols/hl7v2/index.ts';
import { fixture } from './support.ts';

const TIMESTAMP = '20250102030406+0100';
const inbound = Hl7Message.parse(fixture('oru-r01-escapes.hl7'));

function ack(code: AckCode, errors?: Parameters<typeof buildAck>[2]['errors']): Hl7Message {
  const text = buildAck(inbound, inbound.delimiters, { code, controlId: `ACK-${code}`, timestamp: TIMESTAMP, ...(errors ? { errors } : {}) });
  return Hl7Message.parse(text);
}

test('AA: MSH-3/4 and MSH-5/6 are swapped, MSA-2 echoes MSH-10, no ERR', () => {
  const a = ack('AA');
  const msh = a.msh;
  for (let c = 1; c <= 3; c++) {
    assert.equal(msh.get(3, c), inbound.msh.get(5, c), `MSH-3.${c} is the receiving application`);
    assert.equal(msh.get(4, c), inbound.msh.get(6, c), `MSH-4.${c} is the receiving facility`);
    assert.equal(msh.get(5, c), inbound.msh.get(3, c), `MSH-5.${c} is the sending application`);
    assert.equal(msh.get(6, c), inbound.msh.get(4, c), `MSH-6.${c} is the sending facility`);
  }
  assert.equal(msh.get(4), 'Ward 3 | ICU', 'escaped values are escaped again, not doubled');
  assert.equal(msh.raw(4), inbound.msh.raw(6));
  assert.equal(msh.get(6, 1), 'Main Lab & Clinics');
  assert.equal(msh.get(7), TIMESTAMP);
  assert.equal(a.messageType, 'ACK^R01');
  assert.equal(msh.get(9, 3), 'ACK');
  assert.equal(a.controlId, 'ACK-AA');
  assert.equal(msh.get(11), 'P');
  assert.equal(a.version, '2.5.1');
  assert.equal(msh.get(18), 'UNICODE UTF-8', 'the character set is echoed');
  const msa = a.segment('MSA')!;
  assert.equal(msa.get(1), 'AA');
  assert.equal(msa.get(2), inbound.controlId);
  assert.equal(msa.get(2), 'MSG|ESC^0001');
  assert.equal(msa.raw(2), inbound.msh.raw(10));
  assert.equal(a.all('ERR').length, 0);
  assert.deepEqual(
    a.segments.map((s) => s.name),
    ['MSH', 'MSA'],
  );
});

test('AE: one ERR per error, table 0357 code in ERR-3, location in ERR-2 (ERL)', () => {
  const a = ack('AE', [
    { code: ErrorCondition.tableValueNotFound, segment: 'OBX', sequence: 3, field: 3, component: 1, text: 'Unknown analyte code | 1234' },
    { code: ErrorCondition.requiredFieldMissing, segment: 'PID', sequence: 1, field: 3, text: 'PID-3 is empty' },
  ]);
  assert.equal(a.segment('MSA')?.get(1), 'AE');
  assert.equal(a.segment('MSA')?.get(2), inbound.controlId);
  const [e1, e2] = a.all('ERR');
  assert.equal(e1?.raw(1), '', 'ERR-1 is the v2.4 location, not used from v2.5 on');
  // ERL: segment id ^ sequence ^ field position ^ field repetition ^ component number.
  assert.equal(e1?.raw(2), 'OBX^3^3^^1');
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((c) => e1?.get(2, c)),
    ['OBX', '3', '3', '', '1'],
  );
  assert.equal(e1?.raw(3), '103^Table value not found^HL70357');
  assert.equal(e1?.get(4), 'E');
  assert.equal(e1?.get(8), 'Unknown analyte code | 1234');
  assert.equal(e1?.raw(8), 'Unknown analyte code \\F\\ 1234');
  assert.equal(e2?.raw(2), 'PID^1^3', 'no component given: trailing empty components trimmed');
  assert.equal(e2?.get(3, 1), '101');
  assert.equal(e2?.get(3, 2), 'Required field missing');
  assert.equal(e2?.get(3, 3), 'HL70357');
});

test('AR: ERR without a location and with a chosen severity', () => {
  const a = ack('AR', [{ code: ErrorCondition.unsupportedVersionId, text: 'Version 2.9 not supported', severity: 'W' }]);
  assert.equal(a.segment('MSA')?.get(1), 'AR');
  const err = a.segment('ERR')!;
  assert.equal(err.raw(2), '');
  assert.equal(err.get(3, 1), '203');
  assert.equal(err.get(3, 2), 'Unsupported version id');
  assert.equal(err.get(4), 'W');
  assert.equal(err.get(8), 'Version 2.9 not supported');
});

test('the whole AE acknowledgement, byte for byte', () => {
  const m = Hl7Message.parse('MSH|^~\\&|POC|WARD|LIS|LAB|20250102030405||ORU^R01^ORU_R01|C-42|P|2.5.1\rPID|1\r');
  const text = buildAck(m, m.delimiters, {
    code: 'AE',
    controlId: 'A-1',
    timestamp: '20250102030406',
    errors: [{ code: '102', segment: 'OBX', sequence: 1, field: 5, text: 'not a number' }],
  });
  assert.equal(
    text,
    'MSH|^~\\&|LIS|LAB|POC|WARD|20250102030406||ACK^R01^ACK|A-1|P|2.5.1\r' +
      'MSA|AE|C-42\r' +
      'ERR||OBX^1^5|102^Data type error^HL70357|E||||not a number\r',
  );
});

test('enhanced mode CA/CE/CR are built the same way', () => {
  for (const code of ['CA', 'CE', 'CR'] as const) {
    const a = ack(code, code === 'CA' ? undefined : [{ code: ErrorCondition.applicationInternalError, text: 'queue full' }]);
    assert.equal(a.segment('MSA')?.get(1), code);
    assert.equal(a.segment('MSA')?.get(2), inbound.controlId);
    assert.equal(a.all('ERR').length, code === 'CA' ? 0 : 1);
  }
});

test('every table 0357 code gets its text', () => {
  for (const code of Object.values(ErrorCondition)) {
    const err = ack('AE', [{ code, text: 'x' }]).segment('ERR')!;
    assert.equal(err.get(3, 1), code);
    assert.ok(err.get(3, 2).length > 0, `no text for ${code}`);
    assert.equal(err.get(3, 3), 'HL70357');
  }
});

test('an ACK for a message that could not be parsed uses the fallback control id and version', () => {
  let error: Hl7ParseError | undefined;
  try {
    Hl7Message.parse('MSH|^~\\&|A|B|C|D|20250101||ORU^R01|X-9|P|2.3\rpid|1\r');
  } catch (e) {
    if (e instanceof Hl7ParseError) error = e;
  }
  assert.ok(error);
  const text = buildAck(undefined, DEFAULT_DELIMITERS, {
    code: 'AR',
    controlId: 'ACK-X',
    timestamp: '20250101',
    fallback: { controlId: 'X-9', version: '2.3' },
    errors: [{ code: error.errorCode as ErrorCondition, text: error.message }],
  });
  const a = Hl7Message.parse(text);
  assert.equal(a.segment('MSA')?.get(2), 'X-9');
  assert.equal(a.version, '2.3');
  assert.equal(a.msh.raw(3), '');
  assert.equal(a.msh.get(9, 1), 'ACK');
  assert.equal(a.segment('ERR')?.get(3, 1), '100');
  assert.equal(a.segment('ERR')?.get(8), error.message);
  // No fallback at all: MSA-2 empty, version 2.5.1.
  const bare = Hl7Message.parse(buildAck(undefined, DEFAULT_DELIMITERS, { code: 'AR', controlId: 'ACK-Y', timestamp: '20250101' }));
  assert.equal(bare.segment('MSA')?.get(2), '');
  assert.equal(bare.version, '2.5.1');
});

test('the ACK uses the delimiters it is given', () => {
  const m = Hl7Message.parse(fixture('adt-a01-custom-delimiters.hl7'));
  const text = buildAck(m, m.delimiters, { code: 'AE', controlId: 'ACK$1', timestamp: '20250101', errors: [{ code: '207', text: 'a$b|c' }] });
  assert.ok(text.startsWith('MSH|$%@!|RECV|DEST|SENDER$FAC|HOSP|'), text);
  const a = Hl7Message.parse(text);
  assert.equal(a.controlId, 'ACK$1');
  assert.equal(a.msh.raw(10), 'ACK@S@1');
  assert.equal(a.messageType, 'ACK^A01');
  assert.equal(a.segment('MSA')?.get(2), 'CUSTOM-0001');
  assert.equal(a.segment('ERR')?.get(8), 'a$b|c');
});

test('readAck reads back what buildAck wrote', () => {
  const a = readAck(ack('AE', [{ code: '103', text: 'bad code' }, { code: '207', text: '' }]));
  assert.equal(a.code, 'AE');
  assert.equal(a.acknowledgedControlId, inbound.controlId);
  assert.equal(a.text, 'bad code; Application internal error');
});

test('readAck reads AA, AE, AR, CA, CE and CR', () => {
  const cases = [
    ['ack-aa.hl7', 'AA', 'MSG-0001', ''],
    ['ack-ae.hl7', 'AE', 'MSG-0002', 'Unknown analyte code | 1234'],
    ['ack-ar.hl7', 'AR', 'MSG-0003', 'Version 2.9 not supported'],
    ['ack-ca.hl7', 'CA', 'MSG-0004', ''],
    ['ack-ce.hl7', 'CE', 'MSG-0005', 'Queue full'],
    ['ack-cr.hl7', 'CR', 'MSG-0006', 'Unsupported message type'],
  ] as const;
  for (const [file, code, controlId, text] of cases) {
    const a = readAck(Hl7Message.parse(fixture(file)));
    assert.deepEqual(a, { code, acknowledgedControlId: controlId, text }, file);
  }
});

test('readAck takes MSA-3 and the text of a v2.3 ERR-1', () => {
  // Regression: the code of ERR-1.4 ('101') was reported instead of its text.
  const a = readAck(Hl7Message.parse(fixture('ack-v23-err1.hl7')));
  assert.deepEqual(a, { code: 'AE', acknowledgedControlId: 'MSG-0007', text: 'Rejected by LIS; Required field missing' });
});

test('readAck refuses an ACK without MSA or with a code outside table 0008', () => {
  assert.throws(() => readAck(Hl7Message.parse(fixture('ack-no-msa.hl7'))), (e: unknown) => {
    assert.ok(e instanceof AckFormatError);
    assert.equal(e.name, 'AckFormatError');
    assert.match(e.message, /no MSA segment/);
    return true;
  });
  assert.throws(() => readAck(Hl7Message.parse(fixture('ack-unknown-code.hl7'))), (e: unknown) => {
    assert.ok(e instanceof AckFormatError);
    assert.match(e.message, /MSA-1 'OK' is not an HL7 table 0008 acknowledgment code/);
    return true;
  });
  for (const bad of ['aa', 'A', '', 'AA ', 'toString', 'AAA']) {
    const m = Hl7Message.parse(`MSH|^~\\&|A|B|C|D|20250101||ACK|1|P|2.5.1\rMSA|${bad}|X\r`);
    assert.throws(() => readAck(m), AckFormatError, `MSA-1 '${bad}' was accepted`);
  }
});
