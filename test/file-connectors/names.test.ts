/**
 * A name that is not valid UTF-8, or that holds control characters (a line break, an escape),
 * is moved to error/ unread under a readable name, with a `.error.txt` that shows its bytes and
 * a log line that names neither; the files beside it go in.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { fileChannel, filesIn, storedMessages, tempDir, waitFor } from './support.ts';

test('names that are not UTF-8 or hold control characters go to error/ with a log line; the good file goes in', async (t) => {
  const inbox = tempDir(t);
  const text = hl7v2Sample('01-poc-glucose-v23.hl7');
  // 'Se\xe1n.hl7' as Latin-1 bytes: not valid UTF-8.
  writeFileSync(Buffer.concat([Buffer.from(`${inbox}/a-Se`), Buffer.from([0xe1]), Buffer.from('n.hl7')]), text);
  writeFileSync(join(inbox, 'b-line\nbreak.hl7'), text);
  writeFileSync(join(inbox, 'c-\x1b[31mred.hl7'), text);
  writeFileSync(join(inbox, 'd-good-Seán.hl7'), hl7v2Sample('05-chemistry-final-v251.hl7'));
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());

  await waitFor('the good file in done/, three in error/', () => filesIn(join(inbox, 'done')).length === 1 && filesIn(join(inbox, 'error')).length === 6);
  assert.deepEqual(filesIn(join(inbox, 'done')), ['d-good-Seán.hl7'], 'a UTF-8 name that is not ASCII is fine');
  assert.deepEqual(filesIn(join(inbox, 'error')), [
    'a-Se_n.hl7', 'a-Se_n.hl7.error.txt', 'b-line_break.hl7', 'b-line_break.hl7.error.txt', 'c-_[31mred.hl7', 'c-_[31mred.hl7.error.txt',
  ]);
  assert.deepEqual(readdirSync(inbox).sort(), ['done', 'error'], 'nothing left in the inbox');
  assert.equal(readFileSync(join(inbox, 'error', 'a-Se_n.hl7'), 'utf8'), text, 'moved as it was');
  const cases: Array<[string, string, string]> = [
    ['a-Se_n.hl7', 'a-Se\\xe1n.hl7', 'a name that is not valid UTF-8'],
    ['b-line_break.hl7', 'b-line\\x0abreak.hl7', 'a name that holds control characters'],
    ['c-_[31mred.hl7', 'c-\\x1b[31mred.hl7', 'a name that holds control characters'],
  ];
  for (const [moved, shown, reason] of cases) {
    const report = readFileSync(join(inbox, 'error', `${moved}.error.txt`), 'utf8');
    assert.ok(report.includes(`\nfile: ${shown}\n`), report);
    assert.match(report, new RegExp(`^the file: FILE_NAME_UNREADABLE [^\\n]*\\n {2}\\(file\\): ${reason}: it was not read;`, 'm'), report);
  }
  assert.equal((await storedMessages(engine, 'drop')).length, 1);
  const lines = engine.logs.filter((l) => l.includes('FILE_NAME_UNREADABLE'));
  assert.equal(lines.length, 3, lines.join('\n'));
  for (const l of lines) {
    assert.match(l, /"file":"[0-9a-f]{12}"/);
    assert.ok(!/line|break|red|Se/.test(JSON.parse(l).file), l);
    assert.ok(!l.includes('line\\nbreak') && !l.includes('red.hl7') && !l.includes('a-Se'), l);
  }
});
