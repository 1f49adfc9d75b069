/**
 * splitHl7File, the pure part of reading an HL7 v2 file: one message, several, batch files
 * (HL7 v2.5.1 section 2.10.3), any segment terminator, MLLP-framed files; and what it refuses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { splitHl7File } from '../../src/sources/file/hl7-file.ts';
import { fixture } from './support.ts';

const msh = (id: string) => `MSH|^~\\&|A|B|C|D|20261120||ORU^R01|${id}|P|2.5.1`;
const texts = (text: string) => splitHl7File(text).map((m) => m.text);
const refusal = (text: string): InputError => {
  try {
    splitHl7File(text);
  } catch (e) {
    assert.ok(e instanceof InputError);
    return e;
  }
  assert.fail('accepted');
};

test('one message: returned as written, its terminators kept', () => {
  for (const eol of ['\r', '\n', '\r\n']) {
    const text = `${msh('1')}${eol}PID|1${eol}OBX|1${eol}`;
    assert.deepEqual(texts(text), [text]);
    assert.deepEqual(texts(text.slice(0, -eol.length)), [text.slice(0, -eol.length)], 'no final terminator');
  }
});

test('several messages one after the other, with or without blank lines between them', () => {
  assert.deepEqual(texts(`${msh('1')}\rPID|1\r${msh('2')}\rPID|2\r`), [`${msh('1')}\rPID|1\r`, `${msh('2')}\rPID|2\r`]);
  assert.deepEqual(texts(`${msh('1')}\nPID|1\n\n\n${msh('2')}\nPID|2\n\n`), [`${msh('1')}\nPID|1\n`, `${msh('2')}\nPID|2\n`]);
  assert.deepEqual(
    splitHl7File(`\n${msh('1')}\nPID|1\n\n${msh('2')}\n`).map((m) => m.line),
    [2, 5],
    'lines of each MSH, 1-based',
  );
});

test('a batch file: envelope segments dropped, the counts checked', () => {
  const batch = fixture('batch-three-orus.hl7');
  const messages = splitHl7File(batch);
  assert.equal(messages.length, 3);
  assert.deepEqual(
    messages.map((m) => m.text.split('\r')[0]!.split('|')[9]),
    ['PG-000417', 'AG-7c1f0e9a-0001', 'CHEM-20261121-0412'],
  );
  for (const m of messages) assert.doesNotMatch(m.text, /(^|\r)(FHS|BHS|BTS|FTS)/);
  // Two batches in one file, with counts.
  const two = ['FHS|^~\\&', 'BHS|^~\\&', msh('1'), 'BTS|1', 'BHS|^~\\&', msh('2'), msh('3'), 'BTS|2', 'FTS|2', ''].join('\r');
  assert.equal(splitHl7File(two).length, 3);
  // Empty counts are not checked.
  assert.equal(splitHl7File(['BHS|^~\\&', msh('1'), 'BTS|', 'FTS'].join('\r')).length, 1);
});

test('a count that does not match means a truncated file: refused whole', () => {
  const e = refusal(['BHS|^~\\&', msh('1'), msh('2'), 'BTS|3', 'FTS|1'].join('\r'));
  assert.equal(e.code, 'FILE_BATCH_INVALID');
  assert.deepEqual(e.issues, [{ path: 'BTS (line 4)', code: 'count_mismatch', message: 'BTS-1 says 3 message(s), the batch holds 2: the file may be truncated' }]);
  const f = refusal(['FHS|^~\\&', 'BHS|^~\\&', msh('1'), 'BTS|1', 'FTS|2'].join('\n'));
  assert.deepEqual(f.issues.map((i) => i.message), ['FTS-1 says 2 batch(es), the file holds 1: the file may be truncated']);
});

test('segments outside any message are refused, by line, without quoting the line', () => {
  const e = refusal(`PID|1||MRN-SECRET\r${msh('1')}\r`);
  assert.equal(e.code, 'FILE_BATCH_INVALID');
  assert.deepEqual(e.issues, [{ path: 'line 1', code: 'outside_message', message: 'segment PID is outside any message: each message starts with MSH' }]);
  const g = refusal(`Dear lab, here are the results\n${msh('1')}\n`);
  assert.deepEqual(g.issues.map((i) => i.message), ['a line that is no segment is outside any message: each message starts with MSH']);
  assert.doesNotMatch(JSON.stringify(g.issues), /Dear/);
});

test('no MSH at all is HL7_PARSE_FAILED', () => {
  const e = refusal('FHS|^~\\&\rFTS|0\r');
  assert.equal(e.code, 'HL7_PARSE_FAILED');
  assert.equal(e.issues[0]!.message, 'no MSH segment: the file holds no HL7 v2 message');
});

test('MLLP-framed messages (VT … FS CR) and a byte order mark are read as plain messages', () => {
  const framed = `\ufeff\x0b${msh('1')}\rPID|1\r\x1c\r\x0b${msh('2')}\rPID|2\r\x1c\r`;
  assert.deepEqual(texts(framed), [`${msh('1')}\rPID|1\r`, `${msh('2')}\rPID|2\r`]);
});
