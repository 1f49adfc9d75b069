/**
 * An HL7 v2 file holding several messages (a batch file with FHS/BHS/BTS/FTS, or messages
 * one after the other) becomes one stored message per MSH, each delivered on its own.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { fileChannel, filesIn, fixture, storedMessages, tempDir, waitFor } from './support.ts';

test('a batch file with 3 messages becomes 3 stored messages, 3 deliveries, and one file in done/', async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', lisPort: lis.mllpPort }) });
  t.after(() => engine.stop());
  writeFileSync(join(inbox, 'batch.hl7'), fixture('batch-three-orus.hl7'));
  await waitFor('the batch in done/', () => filesIn(join(inbox, 'done')).includes('batch.hl7'));
  await engine.drained();
  const stored = await storedMessages(engine, 'drop');
  assert.deepEqual(stored.map((m) => m.sourceId), ['PG-000417', 'AG-7c1f0e9a-0001', 'CHEM-20261121-0412'], 'in file order');
  for (const m of stored) {
    assert.match(m.rawInput, /^MSH\|/, 'each message starts at its MSH: no envelope segment');
    assert.doesNotMatch(m.rawInput, /^(FHS|BHS|BTS|FTS)/m);
    assert.equal(m.deliveries[0]!.status, 'acknowledged');
  }
  assert.equal(stored[2]!.rawInput, `${hl7v2Sample('05-chemistry-final-v251.hl7').replace(/\r$/, '')}\r`, 'with its own segment terminators');
  await waitFor('3 messages at the LIS', async () => (await sandboxMessages(lis)).length === 3);
});

test('a batch whose BTS-1 count does not match is refused whole: nothing stored', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());
  // As a truncated transfer would leave it: the trailer says 4.
  writeFileSync(join(inbox, 'short.hl7'), fixture('batch-three-orus.hl7').replace('BTS|3', 'BTS|4'));
  await waitFor('the file in error/', () => filesIn(join(inbox, 'error')).length === 2);
  const report = readFileSync(join(inbox, 'error', 'short.hl7.error.txt'), 'utf8');
  assert.match(report, /^the file: FILE_BATCH_INVALID /m);
  assert.match(report, /^ {2}BTS \(line 30\): BTS-1 says 4 message\(s\), the batch holds 3: the file may be truncated$/m, report);
  assert.equal((await storedMessages(engine, 'drop')).length, 0);
});

test('one refused message of three: the other two are stored, the file goes to error/ naming message 2; the fixed file adds only it', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());
  const text = fixture('three-orus-second-bad-lf.hl7');
  writeFileSync(join(inbox, 'three.hl7'), text);
  await waitFor('the file in error/', () => filesIn(join(inbox, 'error')).length === 2);
  const report = readFileSync(join(inbox, 'error', 'three.hl7.error.txt'), 'utf8');
  assert.match(report, /^message 2 of 3 \(line 11, MSH-10 PG-000418\): INPUT_INVALID [^\n]*\n {2}OBX\[0\]-5: OBX-5 is empty/m, report);
  assert.match(report, /^ {2}message 1 of 3 \(line 1, MSH-10 CHEM-20261121-0412\): [0-9A-Z]{26}$/m);
  assert.match(report, /^ {2}message 3 of 3 \(line 18, MSH-10 AG-7c1f0e9a-0001\): [0-9A-Z]{26}$/m);
  assert.deepEqual((await storedMessages(engine, 'drop')).map((m) => m.sourceId), ['CHEM-20261121-0412', 'AG-7c1f0e9a-0001']);

  // The sender fixes message 2 and drops the file again.
  writeFileSync(join(inbox, 'three.hl7'), text.replace(/^(OBX\|1\|NM\|GLU[^|]*\|[^|]*\|)\|/m, '$17.9|'));
  await waitFor('the fixed file in done/', () => filesIn(join(inbox, 'done')).includes('three.hl7'));
  const stored = await storedMessages(engine, 'drop');
  assert.deepEqual(stored.map((m) => m.sourceId), ['CHEM-20261121-0412', 'AG-7c1f0e9a-0001', 'PG-000418'], 'only message 2 is new');
  const taken = engine.logs.filter((l) => l.includes('file taken in'));
  assert.match(taken.at(-1)!, /"messages":3,"duplicates":2/);
});

test('a message that cannot even be parsed is refused on its own; the report lists the refusals in file order', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());
  const refusedByMapping = fixture('oru-r01-obx5-empty.hl7');
  const unparseable = 'MSH|^~\\&|A|B|C|D|20261120||ORU^R01|BROKEN-1|P|2.5.1\rpid|lower-case is no segment\r';
  writeFileSync(join(inbox, 'mixed.hl7'), `${refusedByMapping}${unparseable}${hl7v2Sample('05-chemistry-final-v251.hl7')}`);
  await waitFor('the file in error/', () => filesIn(join(inbox, 'error')).length === 2);
  const report = readFileSync(join(inbox, 'error', 'mixed.hl7.error.txt'), 'utf8');
  const headings = report.split('\n').filter((l) => /^message \d of 3/.test(l));
  assert.deepEqual(headings, [
    'message 1 of 3 (line 1, MSH-10 PG-000417): INPUT_INVALID (the input does not match the expected shape)',
    'message 2 of 3 (line 8): HL7_PARSE_FAILED (the HL7 v2 message could not be parsed)',
  ]);
  assert.match(report, /^ {2}segment 2: segment 2 does not start with a segment name followed by '\|'$/m);
  assert.deepEqual((await storedMessages(engine, 'drop')).map((m) => m.sourceId), ['CHEM-20261121-0412']);
});
