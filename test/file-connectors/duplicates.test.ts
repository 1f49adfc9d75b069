/**
 * Intake from files is idempotent: a file read again (dropped again, or left in the inbox by
 * a crash or a failed move after its commit) is recognised as a duplicate, stored once and
 * delivered once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample, platformEvent } from '../support/repo.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { fileChannel, filesIn, storedMessages, tempDir, waitFor } from './support.ts';

test('an identical file dropped again is a duplicate: stored and delivered once, moved to done/ under a suffixed name', async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', lisPort: lis.mllpPort }) });
  t.after(() => engine.stop());
  const text = hl7v2Sample('05-chemistry-final-v251.hl7');
  writeFileSync(join(inbox, 'chem.hl7'), text);
  await waitFor('the first in done/', () => filesIn(join(inbox, 'done')).length === 1);
  await engine.drained();
  await waitFor('the LIS has it', async () => (await sandboxMessages(lis)).length === 1);

  writeFileSync(join(inbox, 'chem.hl7'), text);
  await waitFor('the second in done/', () => filesIn(join(inbox, 'done')).length === 2);
  assert.deepEqual(filesIn(join(inbox, 'done')), ['chem.1.hl7', 'chem.hl7']);
  await engine.drained();
  await sleep(200);
  assert.equal((await storedMessages(engine, 'drop')).length, 1, 'stored once');
  assert.equal((await sandboxMessages(lis)).length, 1, 'delivered once');
  assert.ok(engine.logs.some((l) => l.includes('file taken in again (duplicate), moved to done')));
});

test('JSON without a mapping is keyed by file name and content: same name and content is a duplicate, either changed is new', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'raw.yaml': fileChannel('raw', { inbox }) });
  t.after(() => engine.stop());
  const event = JSON.stringify(platformEvent('compact-glucose'));
  const drop = async (name: string, content: string, doneCount: number) => {
    writeFileSync(join(inbox, name), content);
    await waitFor(`${name} in done/`, () => filesIn(join(inbox, 'done')).length === doneCount);
  };
  await drop('event.json', event, 1);
  await drop('event.json', event, 2);
  await drop('other-name.json', event, 3);
  await drop('event.json', `${event}\n`, 4);
  const stored = await storedMessages(engine, 'raw');
  assert.equal(stored.length, 3);
  assert.match(stored[0]!.sourceId, /^event\.json#[0-9a-f]{16}$/);
  assert.match(stored[1]!.sourceId, /^other-name\.json#[0-9a-f]{16}$/);
  assert.notEqual(stored[2]!.sourceId, stored[0]!.sourceId);
});

test('committed but not moved (done/ unusable): the file stays, is re-read as a duplicate until the move succeeds, delivered once', async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const inbox = tempDir(t);
  const done = join(inbox, 'done');
  const engine = await startTestEngine({
    'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', lisPort: lis.mllpPort, source: { pattern: '*.hl7' } }),
  });
  t.after(() => engine.stop());
  // A regular file where done/ should be: every move fails, after the commit (also as root, unlike a chmod).
  rmSync(done, { recursive: true });
  writeFileSync(done, 'in the way');

  writeFileSync(join(inbox, 'chem.hl7'), hl7v2Sample('05-chemistry-final-v251.hl7'));
  await waitFor('the message stored', async () => (await storedMessages(engine, 'drop')).length === 1);
  await waitFor('the LIS has it', async () => (await sandboxMessages(lis)).length === 1);
  // Several polls later (every 50 ms): still in the inbox, re-read each time, never stored or sent twice.
  await sleep(400);
  assert.deepEqual(filesIn(inbox), ['chem.hl7', 'done']);
  const failures = engine.logs.filter((l) => l.includes('FILE_MOVE_FAILED'));
  assert.equal(failures.length, 1, 'logged at warn once; the retries at debug');
  assert.match(failures[0]!, /"messageIds":\["[0-9A-Z]{26}"\]/);

  rmSync(done);
  mkdirSync(done);
  await waitFor('the file in done/', () => filesIn(done).includes('chem.hl7'));
  await engine.drained();
  assert.equal((await storedMessages(engine, 'drop')).length, 1);
  assert.equal((await sandboxMessages(lis)).length, 1, 'delivered once');
  assert.equal(readFileSync(join(done, 'chem.hl7'), 'utf8'), hl7v2Sample('05-chemistry-final-v251.hl7'));
});
