/**
 * kill -9 of the engine while it takes in a stream of dropped files, then a restart on the
 * same data directory and inbox: every file ends in done/, and each message is stored once.
 * A file whose commit happened before the kill but whose move did not is read again by the
 * second process and recognised as a duplicate (the in-process test in duplicates.test.ts
 * forces that window; here it is wherever the kill lands).
 */
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createWorkspace, type EngineProcess, startEngine } from '../support/engine-process.ts';
import { filesIn, waitFor } from './support.ts';

const FILES = 300;
const KILL_AFTER_DONE = 80;

const message = (n: number) => `MSH|^~\\&|ANALYSER|LAB|LIS|LAB|20261120091500||ORU^R01|K9-${String(n).padStart(5, '0')}|P|2.5.1\rPID|1||P${n}\r`;

test('kill -9 mid-stream: after a restart every file is in done/ and every message stored exactly once', { timeout: 90_000 }, async (t) => {
  const workspace = createWorkspace({});
  const inbox = join(workspace.dir, 'inbox');
  mkdirSync(inbox);
  writeFileSync(
    join(workspace.channelsDir, 'drop.yaml'),
    `id: drop\nsource:\n  type: file\n  directory: ${JSON.stringify(inbox)}\n  format: hl7v2\n  stableMs: 0\n  pollIntervalMs: 50\n`,
  );
  const engines: EngineProcess[] = [];
  t.after(async () => {
    for (const e of engines) await e.kill('SIGKILL');
    workspace.remove();
  });
  // Dropped the way a careful writer does it: written under a dot-name, then renamed.
  for (let n = 0; n < FILES; n++) {
    writeFileSync(join(inbox, `.r-${n}.tmp`), message(n));
    renameSync(join(inbox, `.r-${n}.tmp`), join(inbox, `r-${String(n).padStart(5, '0')}.hl7`));
  }
  engines.push(await startEngine({ workspace }));
  await waitFor(`${KILL_AFTER_DONE} files in done/`, () => filesIn(join(inbox, 'done')).length >= KILL_AFTER_DONE, 30_000);
  await engines[0]!.kill('SIGKILL');
  const doneAtKill = filesIn(join(inbox, 'done')).length;
  assert.ok(doneAtKill < FILES, `killed with ${FILES - doneAtKill} files still to take in`);

  engines.push(await startEngine({ workspace }));
  const second = engines[1]!;
  await waitFor('every file in done/', () => filesIn(join(inbox, 'done')).length === FILES, 30_000);
  assert.deepEqual(filesIn(inbox), [], 'the inbox is empty');
  assert.deepEqual(filesIn(join(inbox, 'error')), [], 'nothing refused');
  assert.deepEqual(
    filesIn(join(inbox, 'done')),
    Array.from({ length: FILES }, (_, n) => `r-${String(n).padStart(5, '0')}.hl7`),
    'each file once: none was moved twice',
  );
  const channels = (await (await second.admin('/api/channels')).json()) as { channels: Array<{ id: string; messages: number }> };
  assert.equal(channels.channels.find((c) => c.id === 'drop')?.messages, FILES, 'each message stored once');
  // Whether the kill landed between a commit and its move is chance; when it did, the re-read was a duplicate.
  const duplicates = second.logs.filter((l) => l.includes('file taken in again (duplicate)')).length;
  assert.ok(duplicates <= 1, `${duplicates} duplicate re-reads`);
  t.diagnostic(`done at the kill: ${doneAtKill}; duplicate re-reads after the restart: ${duplicates}`);
});
