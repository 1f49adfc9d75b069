/**
 * How a file is known to be complete (`complete`): a marker file written after it (`marker`),
 * a rename into place (`rename`), or a quiet period alone (`quiet`, which a writer pausing
 * longer than `stableMs` defeats).
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, renameSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { fileChannel, filesIn, storedMessages, tempDir, waitFor } from './support.ts';

test('marker: a file is taken only once its .done or .ok marker exists, and the marker is removed after the move', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { complete: 'marker', stableMs: 0, pollIntervalMs: 20 } }) });
  t.after(() => engine.stop());
  const text = hl7v2Sample('05-chemistry-final-v251.hl7');
  const half = Math.floor(text.length / 2);
  // A slow writer: the first half, then a pause far longer than any quiet period would allow.
  const fd = openSync(join(inbox, 'slow.hl7'), 'w');
  writeSync(fd, text.slice(0, half));
  writeFileSync(join(inbox, 'other.hl7'), hl7v2Sample('01-poc-glucose-v23.hl7'));
  await sleep(600);
  assert.deepEqual(filesIn(inbox), ['other.hl7', 'slow.hl7'], 'neither taken without its marker');
  assert.equal((await storedMessages(engine, 'drop')).length, 0);

  writeSync(fd, text.slice(half));
  closeSync(fd);
  writeFileSync(join(inbox, 'slow.hl7.done'), '');
  await waitFor('the marked file in done/', () => filesIn(join(inbox, 'done')).includes('slow.hl7'));
  assert.deepEqual(filesIn(inbox), ['other.hl7'], 'its marker removed, the unmarked file still waiting');
  writeFileSync(join(inbox, 'other.hl7.OK'), '');
  await waitFor('the other file in done/', () => filesIn(join(inbox, 'done')).length === 2);
  assert.deepEqual(filesIn(inbox), []);
  assert.deepEqual(filesIn(join(inbox, 'done')), ['other.hl7', 'slow.hl7'], 'markers are never taken as data');
  const stored = await storedMessages(engine, 'drop');
  assert.equal(stored.find((m) => m.sourceId === 'CHEM-20261121-0412')?.rawInput, text, 'read whole');
  assert.ok(!engine.logs.some((l) => l.includes('a quiet period alone')), 'no warning with markers');
});

test('marker: a marker older than the file (left from an earlier file of that name) does not make it complete', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { complete: 'marker', pollIntervalMs: 20 } }) });
  t.after(() => engine.stop());
  writeFileSync(join(inbox, 'r.hl7.done'), '');
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(inbox, 'r.hl7.done'), old, old);
  writeFileSync(join(inbox, 'r.hl7'), hl7v2Sample('05-chemistry-final-v251.hl7').slice(0, 100));
  await sleep(400);
  assert.deepEqual(filesIn(inbox), ['r.hl7', 'r.hl7.done'], 'not taken with a stale marker');
  writeFileSync(join(inbox, 'r.hl7'), hl7v2Sample('05-chemistry-final-v251.hl7'));
  writeFileSync(join(inbox, 'r.hl7.done'), '');
  await waitFor('the file in done/', () => filesIn(join(inbox, 'done')).includes('r.hl7'));
  assert.deepEqual(filesIn(join(inbox, 'error')), []);
});

test('marker: a refused file goes to error/ and its marker is removed too', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { complete: 'marker', pollIntervalMs: 20 } }) });
  t.after(() => engine.stop());
  writeFileSync(join(inbox, 'bad.hl7'), 'not HL7 at all\n');
  writeFileSync(join(inbox, 'bad.hl7.done'), '');
  await waitFor('the file in error/', () => filesIn(join(inbox, 'error')).length === 2);
  assert.deepEqual(filesIn(inbox), []);
});

test('rename: a file renamed into place is taken at once; temporaryNames are never read', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({
    'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { complete: 'rename', pollIntervalMs: 20 } }).replace('  complete: "rename"', '  complete: rename\n  temporaryNames: ["*.writing"]'),
  });
  t.after(() => engine.stop());
  const text = hl7v2Sample('05-chemistry-final-v251.hl7');
  writeFileSync(join(inbox, 'r.hl7.writing'), text.slice(0, 100));
  await sleep(300);
  assert.deepEqual(filesIn(inbox), ['r.hl7.writing'], 'a temporary name is not read');
  writeFileSync(join(inbox, 'r.hl7.writing'), text);
  renameSync(join(inbox, 'r.hl7.writing'), join(inbox, 'r.hl7'));
  await waitFor('the file in done/', () => filesIn(join(inbox, 'done')).includes('r.hl7'));
  const [stored] = await storedMessages(engine, 'drop');
  assert.equal(stored!.rawInput, text);
});

test('quiet (the default): a writer that pauses longer than stableMs has its file cut, which is why marker and rename exist', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { stableMs: 100, pollIntervalMs: 20 } }) });
  t.after(() => engine.stop());
  const text = hl7v2Sample('05-chemistry-final-v251.hl7');
  const fd = openSync(join(inbox, 'paused.hl7'), 'w');
  t.after(() => closeSync(fd));
  writeSync(fd, text.slice(0, text.indexOf('\rOBR')));
  await waitFor('the first part taken as if it were the whole file', () => filesIn(inbox).length === 0);
  assert.deepEqual(filesIn(join(inbox, 'error')), ['paused.hl7', 'paused.hl7.error.txt'], 'cut before its OBR, the message is refused');
  assert.match(readFileSync(join(inbox, 'error', 'paused.hl7.error.txt'), 'utf8'), /no OBR segment/);
  const warning = engine.logs.find((l) => l.includes('a quiet period alone'));
  assert.ok(warning, 'the channel says so when it starts');
  assert.match(warning, /"level":40,.*"complete":"quiet","stableMs":100,.*set complete: marker or rename/);
});
