/**
 * Issue 13 rule 1: `conduit preview` reads the file as the channel's source would, in the
 * character set of MSH-18 (the source's `encoding` when it is empty), and refuses what the
 * source refuses, instead of decoding everything as UTF-8.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { charsetOru } from '../mapping/hl7v2-oru/support.ts';
import { conduit, tempFiles } from './support.ts';

test('a Latin-1 file that says so in MSH-18 previews with its text intact (MLLP and file drop channels)', (t) => {
  const files = tempFiles(t);
  const file = join(files.dir, 'declared.hl7');
  writeFileSync(file, Buffer.from(charsetOru('P-1', '8859/1', 'Gr\xfcn'), 'latin1'));
  for (const channel of ['hl7-to-ehr', 'file-drop-to-lis']) {
    const r = conduit(['preview', channel, file, '--canonical']);
    assert.equal(r.status, 0, `${channel}: ${r.stderr}`);
    assert.ok(r.stdout.includes('"Grün"'), r.stdout);
    assert.ok(!r.stdout.includes('\ufffd'));
  }
});

test('a Latin-1 file without MSH-18 on a utf-8 channel is refused as the source refuses it, naming MSH-18 and the setting', (t) => {
  const files = tempFiles(t);
  const file = join(files.dir, 'undeclared.hl7');
  writeFileSync(file, Buffer.from(charsetOru('P-2', '', 'Gr\xfcn'), 'latin1'));
  const mllp = conduit(['preview', 'hl7-to-ehr', file]);
  assert.equal(mllp.status, 1);
  assert.match(mllp.stderr, /undeclared\.hl7: INPUT_TEXT_INVALID\n {2}MSH-18: MSH-18 is empty, so the channel's encoding setting \(utf-8\) applies, and the message is not valid UNICODE UTF-8/);
  const drop = conduit(['preview', 'file-drop-to-lis', file]);
  assert.equal(drop.status, 1);
  assert.match(drop.stderr, /undeclared\.hl7: FILE_ENCODING_INVALID\n {2}MSH-18: MSH-18 is empty/);
});

test('a batch file previews every message, as the file drop takes them in', (t) => {
  const files = tempFiles(t);
  const file = join(files.dir, 'batch.hl7');
  writeFileSync(file, `FHS|^~\\&\rBHS|^~\\&\r${charsetOru('P-3', '', 'one')}${charsetOru('P-4', '', 'two')}BTS|2\rFTS|1\r`);
  const r = conduit(['preview', 'file-drop-to-lis', file, '--canonical']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^# report 1 of 2\n/);
  assert.ok(r.stdout.includes('# report 2 of 2') && r.stdout.includes('"one"') && r.stdout.includes('"two"'), r.stdout);
});
