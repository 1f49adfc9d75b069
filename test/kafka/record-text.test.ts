/**
 * How the Kafka source (and `conduit preview`) turn record bytes into text: HL7 v2 records in
 * their MSH-18 character set (the `encoding` setting when it is empty), JSON records as strict
 * UTF-8. Bytes that do not decode are an InputError, which the Kafka source dead-letters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { decodeInput } from '../../src/sources/text.ts';

const hl7 = (msh18: string, text: string) => `MSH|^~\\&|A|B|C|D|20250101||ORU^R01|K-1|P|2.5.1||||||${msh18}\rNTE|1||${text}\r`;

test('HL7 v2 records: MSH-18 first, then the setting; JSON records: UTF-8', () => {
  assert.match(decodeInput(Buffer.from(hl7('8859/1', 'Gr\xfcn'), 'latin1'), 'hl7v2', 'utf-8'), /Grün/);
  assert.match(decodeInput(Buffer.from(hl7('', 'Gr\xfcn'), 'latin1'), 'hl7v2', 'latin1'), /Grün/);
  assert.equal(decodeInput(Buffer.from('{"a":"Grün"}'), 'json', 'utf-8'), '{"a":"Grün"}');
  assert.equal(decodeInput(Buffer.from('{"a":"Gr\xfcn"}', 'latin1'), 'json', 'latin1'), '{"a":"Grün"}');
});

test('bytes that do not decode are refused, naming MSH-18 or the record value', () => {
  assert.throws(
    () => decodeInput(Buffer.from(hl7('', 'Gr\xfcn'), 'latin1'), 'hl7v2', 'utf-8'),
    (e: unknown) => e instanceof InputError && e.code === 'INPUT_TEXT_INVALID' && e.issues[0]!.path === 'MSH-18',
  );
  assert.throws(
    () => decodeInput(Buffer.from('{"a":"Gr\xfcn"}', 'latin1'), 'json', 'utf-8', '(record value)'),
    (e: unknown) => e instanceof InputError && e.code === 'INPUT_TEXT_INVALID' && /^\(record value\): not valid UTF-8 \(byte offset 8\)/.test(e.message),
  );
});
