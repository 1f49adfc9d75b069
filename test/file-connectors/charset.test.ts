/**
 * Issue 13 rule 1 on the file drop: an HL7 v2 file is read in the character set the MSH-18 of
 * its first message declares, the source's `encoding` when that is empty; bytes that do not
 * decode send the file to error/ with a report naming MSH-18 and the setting, never U+FFFD.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { fileInputs } from '../../src/sources/file/inputs.ts';
import { charsetOru } from '../mapping/hl7v2-oru/support.ts';
import { startTestEngine } from '../support/in-process.ts';
import { fileChannel, filesIn, storedMessages, tempDir, waitFor } from './support.ts';

const utf8 = { encoding: 'utf-8', format: 'auto' } as const;

test('MSH-18 of the first message decides; the setting applies when it is empty', () => {
  const latin1 = Buffer.from(charsetOru('F-1', '8859/1', 'Gr\xfcn'), 'latin1');
  assert.ok(fileInputs('a.hl7', latin1, utf8).inputs[0]!.input.text.includes('Grün'));
  const utf = Buffer.from(charsetOru('F-2', 'UNICODE UTF-8', 'Grün'), 'utf8');
  assert.ok(fileInputs('b.hl7', utf, { encoding: 'latin1', format: 'auto' }).inputs[0]!.input.text.includes('Grün'));
  const plain = Buffer.from(charsetOru('F-3', '', 'Gr\xfcn'), 'latin1');
  assert.ok(fileInputs('c.hl7', plain, { encoding: 'latin1', format: 'auto' }).inputs[0]!.input.text.includes('Grün'));
  // A batch file: MSH-18 is read from the first MSH, after FHS and BHS; the format from the bytes.
  const batch = Buffer.from(`FHS|^~\\&\rBHS|^~\\&\r${charsetOru('F-4', '8859/2', '\xb3\xf3d\xbc')}BTS|1\rFTS|1\r`, 'latin1');
  assert.ok(fileInputs('batch.dat', batch, utf8).inputs[0]!.input.text.includes('łódź'));
});

test('bytes that do not decode: FILE_ENCODING_INVALID at MSH-18, naming MSH-18 and the encoding setting', () => {
  const refusal = (bytes: Buffer, encoding: 'utf-8' | 'latin1'): InputError => {
    try {
      fileInputs('x.hl7', bytes, { encoding, format: 'auto' });
    } catch (e) {
      if (e instanceof InputError) return e;
      throw e;
    }
    throw new Error('not refused');
  };
  const empty = refusal(Buffer.from(charsetOru('F-5', '', 'Gr\xfcn'), 'latin1'), 'utf-8');
  assert.equal(empty.code, 'FILE_ENCODING_INVALID');
  assert.deepEqual(empty.issues[0]!.hl7, { segment: 'MSH', sequence: 1, field: 18 });
  assert.match(empty.issues[0]!.message, /^MSH-18 is empty, so the channel's encoding setting \(utf-8\) applies, and the message is not valid UNICODE UTF-8 \(byte offset \d+\)/);
  const declared = refusal(Buffer.from(charsetOru('F-6', 'UNICODE UTF-8', 'Gr\xfcn'), 'latin1'), 'latin1');
  assert.match(declared.issues[0]!.message, /not valid UNICODE UTF-8 .*MSH-18 declares .*encoding setting, latin1, applies only when MSH-18 is empty/);
  const unknown = refusal(Buffer.from(charsetOru('F-7', 'EBCDIC', 'x'), 'latin1'), 'utf-8');
  assert.match(unknown.issues[0]!.message, /MSH-18 \(character set\) 'EBCDIC' is not one this engine decodes/);
});

test('a message of a batch that declares another character set than the first is refused on its own', () => {
  const bytes = Buffer.from(charsetOru('F-8', '8859/1', 'a') + charsetOru('F-9', 'UNICODE UTF-8', 'b') + charsetOru('F-10', '', 'c'), 'latin1');
  const { inputs, unparsed } = fileInputs('two.hl7', bytes, utf8);
  assert.deepEqual(
    inputs.map((i) => i.sourceId),
    ['F-8', 'F-10'],
  );
  assert.equal(unparsed.length, 1);
  assert.equal(unparsed[0]!.error.code, 'FILE_ENCODING_INVALID');
  assert.match(unparsed[0]!.error.issues[0]!.message, /MSH-18 declares 'UNICODE UTF-8', but the file was read as 8859\/1/);
});

test('through the engine: a Latin-1 file on a utf-8 channel goes to error/ naming MSH-18; declared, it is read right', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());
  writeFileSync(join(inbox, 'undeclared.hl7'), Buffer.from(charsetOru('F-11', '', 'Gr\xfcn'), 'latin1'));
  writeFileSync(join(inbox, 'declared.hl7'), Buffer.from(charsetOru('F-12', '8859/1', 'Gr\xfcn'), 'latin1'));
  await waitFor('both files moved', () => filesIn(join(inbox, 'done')).length === 1 && filesIn(join(inbox, 'error')).length === 2);
  const report = readFileSync(join(inbox, 'error', 'undeclared.hl7.error.txt'), 'utf8');
  assert.match(report, /FILE_ENCODING_INVALID[^\n]*\n {2}MSH-18: MSH-18 is empty, so the channel's encoding setting \(utf-8\) applies/);
  const stored = await storedMessages(engine, 'drop');
  assert.equal(stored.length, 1);
  assert.ok(stored[0]!.rawInput.includes('Grün'));
  assert.ok(!stored[0]!.rawInput.includes('\ufffd'));
});

test('a raw control character refuses its message only, naming the segment and field; MLLP block characters in a file are framing', () => {
  const bytes = Buffer.from(`\x0b${charsetOru('F-13', '', 'ok')}\x1c\r${charsetOru('F-14', '', 'bell\x07')}`, 'latin1');
  const { inputs, unparsed } = fileInputs('two.hl7', bytes, utf8);
  assert.deepEqual(
    inputs.map((i) => i.sourceId),
    ['F-13'],
  );
  assert.equal(unparsed[0]!.error.code, 'INPUT_TEXT_INVALID');
  assert.deepEqual(unparsed[0]!.error.issues[0]!.hl7, { segment: 'OBX', sequence: 1, field: 5 });
  assert.equal(unparsed[0]!.error.issues[0]!.path, 'OBX[0]-5');
});
