/**
 * Refused input goes to error/ with a `<name>.error.txt` naming what is wrong and where; the
 * channel carries on with the next file. Nothing refused is stored.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { fileChannel, filesIn, fixture, storedMessages, tempDir, waitFor } from './support.ts';

test('an HL7 v2 file the mapping refuses goes to error/ with a .error.txt naming the field; the next file goes in', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());
  writeFileSync(join(inbox, 'a-bad.hl7'), fixture('oru-r01-obx5-empty.hl7'));
  writeFileSync(join(inbox, 'b-good.hl7'), hl7v2Sample('05-chemistry-final-v251.hl7'));
  await waitFor('both files moved', () => filesIn(inbox).length === 0 && filesIn(join(inbox, 'done')).length === 1);

  assert.deepEqual(filesIn(join(inbox, 'error')), ['a-bad.hl7', 'a-bad.hl7.error.txt']);
  assert.equal(readFileSync(join(inbox, 'error', 'a-bad.hl7'), 'utf8'), fixture('oru-r01-obx5-empty.hl7'), 'moved as it was');
  const report = readFileSync(join(inbox, 'error', 'a-bad.hl7.error.txt'), 'utf8');
  assert.match(report, /^channel: drop$/m);
  assert.match(report, /^file: a-bad\.hl7$/m);
  assert.match(report, /^the message: INPUT_INVALID /m);
  assert.match(report, /^ {2}OBX\[0\]-5: OBX-5 is empty, but OBX-11 /m, report);
  assert.deepEqual(filesIn(join(inbox, 'done')), ['b-good.hl7']);
  const stored = await storedMessages(engine, 'drop');
  assert.deepEqual(stored.map((m) => m.sourceId), ['CHEM-20261121-0412'], 'only the good one is stored');
  const refusal = engine.logs.find((l) => l.includes('file refused'));
  assert.ok(refusal);
  assert.match(refusal, /"codes":\["INPUT_INVALID"\]/);
  assert.match(refusal, /"locations":\["OBX\[0\]-5"\]/);
});

test('whole-file refusals: invalid JSON, not UTF-8, empty, unknown format, too large, wrong format for the mapping', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'events.yaml': fileChannel('events', { inbox, mapping: 'platform-result', source: { maxFileBytes: 4096 } }) });
  t.after(() => engine.stop());
  const cases: Record<string, { content: string | Buffer; expect: RegExp }> = {
    'broken.json': { content: '{"result": {"patient": ', expect: /^the file: INPUT_INVALID_JSON [^\n]*\n {2}\(file\): not valid JSON: /m },
    'latin1.json': { content: Buffer.from('{"name": "Se\xe1n"}', 'latin1'), expect: /^the file: FILE_ENCODING_INVALID [^\n]*\n {2}\(file\): the file is not valid UTF-8; [^\n]*set encoding: latin1/m },
    'empty.json': { content: '', expect: /^the file: FILE_EMPTY / },
    'blank.json': { content: ' \n\t\n', expect: /^the file: FILE_EMPTY / },
    'mystery.dat': { content: 'hello', expect: /^the file: FILE_FORMAT_UNKNOWN [^\n]*\n {2}\(file\): cannot tell the format of a '\.dat' file/m },
    'huge.json': { content: `{"pad": "${'x'.repeat(5000)}"}`, expect: /^the file: INPUT_TOO_LARGE [^\n]*\n {2}\(file\): the file has 5011 bytes, more than maxFileBytes \(4096\)/m },
    'oru.hl7': { content: hl7v2Sample('01-poc-glucose-v23.hl7'), expect: /^the message: INPUT_UNSUPPORTED_MEDIA [^\n]*\n {2}\(input\): channel events maps json input, got hl7v2/m },
  };
  for (const [name, c] of Object.entries(cases)) writeFileSync(join(inbox, name), c.content);
  const names = Object.keys(cases);
  await waitFor('every file in error/', () => filesIn(join(inbox, 'error')).length === names.length * 2);
  for (const [name, c] of Object.entries(cases)) {
    const report = readFileSync(join(inbox, 'error', `${name}.error.txt`), 'utf8');
    assert.match(report.split('\n').slice(5).join('\n'), c.expect, `${name}:\n${report}`);
  }
  assert.equal((await storedMessages(engine, 'events')).length, 0);
  assert.deepEqual(filesIn(inbox), []);
});

test('a name already in error/ gets a suffix, for the file and its report together', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());
  for (let i = 0; i < 3; i++) {
    writeFileSync(join(inbox, 'bad.hl7'), fixture('oru-r01-obx5-empty.hl7'));
    await waitFor('the file moved', () => filesIn(inbox).length === 0);
  }
  assert.deepEqual(filesIn(join(inbox, 'error')), ['bad.1.hl7', 'bad.1.hl7.error.txt', 'bad.2.hl7', 'bad.2.hl7.error.txt', 'bad.hl7', 'bad.hl7.error.txt']);
});

test('latin1 encoding reads ISO 8859-1 files', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { encoding: 'latin1' } }) });
  t.after(() => engine.stop());
  const text = hl7v2Sample('05-chemistry-final-v251.hl7');
  writeFileSync(join(inbox, 'latin1.hl7'), Buffer.from(text, 'latin1'));
  await waitFor('the file in done/', () => filesIn(join(inbox, 'done')).length === 1);
  const [stored] = await storedMessages(engine, 'drop');
  assert.equal(stored!.rawInput, text);
  assert.match(stored!.rawInput, /O'Brien\^Seán\^Pádraig/);
});
