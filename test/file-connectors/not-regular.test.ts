/**
 * Only regular files are read. A symbolic link (to a patient file outside the inbox, say), a
 * FIFO or a socket in the inbox is moved to error/ unread, as a link (its target stays where it
 * is, untouched), with a `.error.txt`; the files beside it go in. Directories are left alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { fileChannel, filesIn, storedMessages, tempDir, waitFor } from './support.ts';

/** Every entry of a directory (links, FIFOs and sockets too), sorted. */
const entriesIn = (dir: string) => readdirSync(dir).sort();

test('a symbolic link to a file outside the inbox is not read: the link goes to error/, its target stays untouched', async (t) => {
  const inbox = tempDir(t);
  const outside = tempDir(t);
  const target = join(outside, 'other-patient.hl7');
  const secret = hl7v2Sample('01-poc-glucose-v23.hl7');
  writeFileSync(target, secret);
  symlinkSync(target, join(inbox, 'a-link.hl7'));
  symlinkSync(join(outside, 'nothing-here.hl7'), join(inbox, 'b-dangling.hl7'));
  writeFileSync(join(inbox, 'c-good.hl7'), hl7v2Sample('05-chemistry-final-v251.hl7'));
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());

  await waitFor('the good file in done/ and both links in error/', () => filesIn(join(inbox, 'done')).length === 1 && entriesIn(join(inbox, 'error')).length === 4);
  assert.deepEqual(entriesIn(join(inbox, 'error')), ['a-link.hl7', 'a-link.hl7.error.txt', 'b-dangling.hl7', 'b-dangling.hl7.error.txt']);
  assert.ok(lstatSync(join(inbox, 'error', 'a-link.hl7')).isSymbolicLink(), 'the link itself was moved');
  assert.equal(readlinkSync(join(inbox, 'error', 'a-link.hl7')), target);
  assert.equal(readFileSync(target, 'utf8'), secret, 'the target is where it was, unchanged');
  assert.deepEqual(entriesIn(outside), ['other-patient.hl7']);
  const report = readFileSync(join(inbox, 'error', 'a-link.hl7.error.txt'), 'utf8');
  assert.match(report, /^the file: FILE_NOT_REGULAR /m);
  assert.match(report, /^ {2}\(file\): a symbolic link: it was not read;/m);
  assert.ok(!report.includes('MSH|'), 'nothing of the target is in the report');

  const stored = await storedMessages(engine, 'drop');
  assert.deepEqual(stored.map((m) => m.sourceId), ['CHEM-20261121-0412'], 'only the regular file is stored');
  const refusals = engine.logs.filter((l) => l.includes('FILE_NOT_REGULAR'));
  assert.equal(refusals.length, 2, refusals.join('\n'));
  for (const l of [...refusals, ...engine.logs]) assert.ok(!l.includes('a-link') && !l.includes('other-patient'), l);
});

test('a FIFO and a socket are moved to error/ unread and never stall the scan; a directory that matches is left alone', async (t) => {
  const inbox = tempDir(t);
  const fifo = spawnSync('mkfifo', [join(inbox, 'a-pipe.hl7')]);
  assert.equal(fifo.status, 0, `mkfifo: ${fifo.stderr}`);
  const socket = createServer();
  await new Promise<void>((resolve) => socket.listen(join(inbox, 'b-socket.hl7'), resolve));
  t.after(() => socket.close());
  mkdirSync(join(inbox, 'c-folder.hl7'));
  writeFileSync(join(inbox, 'd-good.hl7'), hl7v2Sample('05-chemistry-final-v251.hl7'));
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());

  await waitFor('the good file in done/, the pipe and the socket in error/', () => filesIn(join(inbox, 'done')).length === 1 && entriesIn(join(inbox, 'error')).length === 4);
  assert.ok(lstatSync(join(inbox, 'error', 'a-pipe.hl7')).isFIFO());
  assert.ok(lstatSync(join(inbox, 'error', 'b-socket.hl7')).isSocket());
  assert.match(readFileSync(join(inbox, 'error', 'a-pipe.hl7.error.txt'), 'utf8'), /^ {2}\(file\): a FIFO \(named pipe\): it was not read;/m);
  assert.match(readFileSync(join(inbox, 'error', 'b-socket.hl7.error.txt'), 'utf8'), /^ {2}\(file\): a socket: it was not read;/m);
  assert.ok(lstatSync(join(inbox, 'c-folder.hl7')).isDirectory(), 'the directory stays');
  assert.equal((await storedMessages(engine, 'drop')).length, 1);
});
