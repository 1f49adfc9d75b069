/**
 * Partial writes are never read: a file written in two halves with a pause shorter than
 * stableMs is read once, whole; names of writes in progress (.tmp, .part, dot-files) are not
 * read however long they stay unchanged, and are picked up once renamed.
 */
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { fileChannel, filesIn, storedMessages, tempDir, waitFor } from './support.ts';

const STABLE_MS = 400;

test('a file written in two parts, paused for less than stableMs, is read once and whole', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { stableMs: STABLE_MS, pollIntervalMs: 20 } }) });
  t.after(() => engine.stop());
  const text = hl7v2Sample('05-chemistry-final-v251.hl7');
  const half = Math.floor(text.length / 2);
  const path = join(inbox, 'slow-writer.hl7');
  const fd = openSync(path, 'w');
  writeSync(fd, text.slice(0, half));
  // Many scans (every 20 ms) see the first half; none may read it.
  await sleep(STABLE_MS / 2);
  assert.deepEqual(filesIn(inbox), ['slow-writer.hl7'], 'still in the inbox');
  assert.equal((await storedMessages(engine, 'drop')).length, 0, 'nothing read yet');
  writeSync(fd, text.slice(half));
  closeSync(fd);
  await waitFor('the file in done/', () => filesIn(join(inbox, 'done')).includes('slow-writer.hl7'));
  const stored = await storedMessages(engine, 'drop');
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.rawInput, text, 'read whole');
  assert.deepEqual(filesIn(join(inbox, 'error')), [], 'the half was never refused');
});

test('a writer that appends a line at a time, each pause shorter than stableMs, is read once at the end', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { stableMs: 250, pollIntervalMs: 20 } }) });
  t.after(() => engine.stop());
  const segments = hl7v2Sample('01-poc-glucose-v23.hl7').split('\r').filter(Boolean);
  const path = join(inbox, 'line-by-line.hl7');
  for (const s of segments) {
    appendFileSync(path, `${s}\r`);
    await sleep(100);
  }
  await waitFor('the file in done/', () => filesIn(join(inbox, 'done')).length === 1);
  const stored = await storedMessages(engine, 'drop');
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.rawInput, `${segments.join('\r')}\r`);
});

test('.tmp, .part and dot-files are never read, however long they stay; renamed into place they are picked up', async (t) => {
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { stableMs: 100, pollIntervalMs: 20 } }) });
  t.after(() => engine.stop());
  const text = hl7v2Sample('05-chemistry-final-v251.hl7');
  const half = Math.floor(text.length / 2);
  // Half-written files under names of writes in progress, left unchanged far longer than stableMs.
  writeFileSync(join(inbox, 'a.hl7.tmp'), text.slice(0, half));
  writeFileSync(join(inbox, 'b.hl7.part'), text.slice(0, half));
  writeFileSync(join(inbox, '.c.hl7'), text.slice(0, half));
  await sleep(500);
  assert.equal((await storedMessages(engine, 'drop')).length, 0, 'none of them read');
  assert.deepEqual(filesIn(inbox), ['.c.hl7', 'a.hl7.tmp', 'b.hl7.part']);
  assert.deepEqual(filesIn(join(inbox, 'error')), []);

  appendFileSync(join(inbox, 'a.hl7.tmp'), text.slice(half));
  renameSync(join(inbox, 'a.hl7.tmp'), join(inbox, 'a.hl7'));
  await waitFor('the renamed file in done/', () => filesIn(join(inbox, 'done')).includes('a.hl7'));
  const stored = await storedMessages(engine, 'drop');
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.rawInput, text);
  assert.deepEqual(filesIn(inbox), ['.c.hl7', 'b.hl7.part']);
});

test('with stableMs: 0 (every writer renames into place) a renamed file is taken in on the next fs.watch event', async (t) => {
  const inbox = tempDir(t);
  // Polling every 10 s: only the watch event can explain a quick pickup.
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', source: { stableMs: 0, pollIntervalMs: 10_000 } }) });
  t.after(() => engine.stop());
  await sleep(50);
  writeFileSync(join(inbox, '.incoming.tmp'), hl7v2Sample('01-poc-glucose-v23.hl7'));
  const t0 = Date.now();
  renameSync(join(inbox, '.incoming.tmp'), join(inbox, 'glucose.hl7'));
  await waitFor('the file in done/', () => filesIn(join(inbox, 'done')).includes('glucose.hl7'), 3_000);
  assert.ok(Date.now() - t0 < 2_000, `picked up in ${Date.now() - t0} ms`);
});
