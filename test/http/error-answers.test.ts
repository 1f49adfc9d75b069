/**
 * One table of error codes (src/errors.ts) gives each code its HTTP status, ACK code and HL7
 * table 0357 condition; `errorAnswer` (HTTP) and `ackErrors` (MLLP ERR segments) derive from it,
 * and ERR-2 is built from the issue's structured location, never parsed back from its path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConduitError, type ErrorCode, ErrorCodes, InputError, inboundAnswer } from '../../src/errors.ts';
import { errorAnswer } from '../../src/http/outcome.ts';
import { buildAck, DEFAULT_DELIMITERS, ErrorCondition, Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { ackErrors } from '../../src/sources/mllp/ack-errors.ts';

test('every code has an answer: a status a client understands, AE, and a table 0357 condition', () => {
  const conditions = new Set<string>(Object.values(ErrorCondition));
  for (const code of Object.keys(ErrorCodes) as ErrorCode[]) {
    const a = inboundAnswer(code);
    assert.ok([400, 401, 413, 415, 422, 503].includes(a.http), `${code}: ${a.http}`);
    assert.equal(a.ack, 'AE', code);
    assert.ok(conditions.has(a.condition), `${code}: ${a.condition}`);
    // A failure that may pass later tells the client to come back; a permanent one does not.
    if (ErrorCodes[code].retry !== 'permanent') assert.equal(a.http, 503, code);
  }
  assert.deepEqual(inboundAnswer('INPUT_TEXT_INVALID'), { http: 422, ack: 'AE', condition: '102' });
  assert.deepEqual(inboundAnswer('HL7_PARSE_FAILED'), { http: 422, ack: 'AE', condition: '100' });
});

test('errorAnswer takes the status from the table', () => {
  const input = (code: ErrorCode) => errorAnswer(new InputError(code, [{ path: 'result.id', code: 'invalid', message: 'x' }]));
  assert.equal(input('INPUT_INVALID_JSON').status, 400);
  assert.equal(input('INPUT_BAD_SIGNATURE').status, 401);
  assert.equal(input('INPUT_TOO_LARGE').status, 413);
  assert.equal(input('INPUT_UNSUPPORTED_MEDIA').status, 415);
  assert.equal(input('INPUT_TEXT_INVALID').status, 422);
  assert.deepEqual(input('INPUT_INVALID').body.issue[0]!.expression, ['result.id']);
  for (const code of ['BACKPRESSURE', 'STORE_FAILED'] as const) {
    const a = errorAnswer(new ConduitError(code));
    assert.deepEqual([a.status, a.headers['Retry-After'], a.body.issue[0]!.code], [503, '5', 'throttled']);
  }
  assert.equal(errorAnswer(new ConduitError('MAPPING_FAILED', 'no', { location: 'report' })).status, 422);
  assert.equal(errorAnswer(new Error('boom')).status, 500);
});

test('ERR segments come from the structured location and the table, with the issue reason where it says more', () => {
  const error = new InputError('INPUT_INVALID', [
    { path: 'OBX[1]-5[0].3.2', hl7: { segment: 'OBX', sequence: 2, field: 5, repetition: 1, component: 3, subcomponent: 2 }, code: 'invalid_value', message: 'bad' },
    { path: 'OBX[0]-3', hl7: { segment: 'OBX', sequence: 1, field: 3 }, code: 'required', message: 'empty' },
    { path: 'PID', hl7: { segment: 'PID' }, code: 'segment_missing', message: 'none' },
    { path: 'MSH-18', hl7: { segment: 'MSH', sequence: 1, field: 18 }, code: 'table_value', message: 'EBCDIC' },
    // A path that merely looks like a location is not parsed back into one.
    { path: 'OBR[0]-4', code: 'invalid_value', message: 'no structure' },
  ]);
  const errors = ackErrors(error);
  assert.deepEqual(
    errors.map((e) => e.code),
    ['102', '101', '100', '103', '102'],
  );
  const ack = Hl7Message.parse(buildAck(undefined, DEFAULT_DELIMITERS, { code: 'AE', controlId: 'A1', timestamp: '20250101', errors }));
  assert.deepEqual(
    ack.all('ERR').map((e) => e.raw(2)),
    ['OBX^2^5^1^3^2', 'OBX^1^3', 'PID', 'MSH^1^18', ''],
  );
  assert.equal(ack.all('ERR')[0]!.get(8), 'OBX[1]-5[0].3.2: bad');
  // A ConduitError that is not an input error: one ERR with the table's condition.
  assert.deepEqual(ackErrors(new ConduitError('STORE_FAILED')), [{ code: '207', text: ErrorCodes.STORE_FAILED.text }]);
});
