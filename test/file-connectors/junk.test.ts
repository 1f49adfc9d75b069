/**
 * A junk file costs bounded work and never holds up the others: its `.error.txt` lists the
 * first 100 problems and counts the rest, and a file whose first 100 messages are all refused
 * is refused whole without trying the rest. The good file beside it is delivered.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { fileChannel, filesIn, storedMessages, tempDir, waitFor } from './support.ts';

const MB = 1024 * 1024;

/** `bytes` of text lines that are no HL7 v2 segment. */
function junkText(bytes: number): string {
  const lines: string[] = [];
  for (let size = 0, i = 0; size < bytes; i++) {
    const line = `junk line ${i}: lorem ipsum dolor sit amet, consectetur adipiscing elit`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** Lines of the report that list a problem (indented `path: message`). */
const problemLines = (report: string) => report.split('\n').filter((l) => l.startsWith('  '));

test('a 13 MB junk file goes to error/ with a report of the first 100 problems and a count; the good file beside it is delivered', { timeout: 120_000 }, async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const inbox = tempDir(t);
  const junk = junkText(13 * MB);
  writeFileSync(join(inbox, 'a-junk.hl7'), junk);
  writeFileSync(join(inbox, 'b-good.hl7'), hl7v2Sample('05-chemistry-final-v251.hl7'));
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', lisPort: lis.mllpPort }) });
  t.after(() => engine.stop());

  await waitFor('the good file in done/ and the junk in error/', () => filesIn(join(inbox, 'done')).length === 1 && filesIn(join(inbox, 'error')).length === 2, 60_000);
  await engine.drained();
  assert.equal((await sandboxMessages(lis)).length, 1, 'the good file was delivered');
  assert.equal(statSync(join(inbox, 'error', 'a-junk.hl7')).size, Buffer.byteLength(junk), 'moved whole');
  const report = readFileSync(join(inbox, 'error', 'a-junk.hl7.error.txt'), 'utf8');
  const lines = junk.split('\n').length - 1;
  assert.match(report, /^the file: FILE_BATCH_INVALID /m);
  const problems = problemLines(report);
  assert.equal(problems.length, 101, 'the first 100, then the count');
  assert.equal(problems[0], '  line 1: a line that is no segment is outside any message: each message starts with MSH');
  assert.equal(problems[100], `  (file): ${lines - 100} more problem(s) of the same kinds, not listed`);
  assert.ok(report.length < 20_000, `${report.length} characters`);
  assert.deepEqual((await storedMessages(engine, 'drop')).map((m) => m.sourceId), ['CHEM-20261121-0412']);
});

test('a file of thousands of messages that are all refused: the first 100 are tried and listed, the rest counted and not tried', { timeout: 120_000 }, async (t) => {
  const inbox = tempDir(t);
  const junk = Array.from({ length: 20_000 }, (_, i) => `MSH|^~\\&|JUNK|JUNK|||20261120||ORU^R01|JUNK-${i}|P|2.5.1\r`).join('');
  writeFileSync(join(inbox, 'a-junk.hl7'), junk);
  writeFileSync(join(inbox, 'b-good.hl7'), hl7v2Sample('05-chemistry-final-v251.hl7'));
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());

  await waitFor('the good file in done/ and the junk in error/', () => filesIn(join(inbox, 'done')).length === 1 && filesIn(join(inbox, 'error')).length === 2, 60_000);
  const report = readFileSync(join(inbox, 'error', 'a-junk.hl7.error.txt'), 'utf8');
  assert.equal((report.match(/^message \d+ of 20000 /gm) ?? []).length, 100, report.slice(0, 2000));
  assert.match(report, /^the rest of the file: INPUT_INVALID [^\n]*\n {2}\(file\): 19900 more message\(s\) not tried: the first 100 were all refused$/m);
  assert.ok(report.length < 100_000, `${report.length} characters`);
  assert.deepEqual((await storedMessages(engine, 'drop')).map((m) => m.sourceId), ['CHEM-20261121-0412']);
});
