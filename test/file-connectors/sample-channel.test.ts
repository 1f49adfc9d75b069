/**
 * The repository's sample channels/file-drop-to-lis.yaml, with its directories moved to a
 * temp directory and its LIS pointed at a sandbox LIS: every HL7 v2 sample dropped in, with
 * its `.done` marker, is delivered to the LIS, archived as a file, and moved to done/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { REPO, startTestEngine } from '../support/in-process.ts';
import { HL7V2_SAMPLES_DIR, hl7v2SampleNames } from '../support/repo.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { filesIn, storedMessages, tempDir, waitFor } from './support.ts';

interface SampleChannel {
  enabled: boolean;
  source: Record<string, unknown>;
  destinations: Array<{ id: string; sender: Record<string, unknown> }>;
}

test('file-drop-to-lis: the HL7 v2 samples go to the LIS and to the archive, and end in done/', { timeout: 60_000 }, async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const dir = tempDir(t);
  const channel = parse(readFileSync(join(REPO, 'channels', 'file-drop-to-lis.yaml'), 'utf8')) as SampleChannel;
  assert.equal(channel.enabled, false, 'the sample ships disabled');
  channel.enabled = true;
  const inbox = join(dir, 'inbox');
  const archive = join(dir, 'archive');
  assert.equal(channel.source.complete, 'marker', 'the sample waits for a marker file');
  Object.assign(channel.source, { directory: inbox, pollIntervalMs: 50 });
  Object.assign(channel.destinations.find((d) => d.id === 'lis')!.sender, { port: lis.mllpPort });
  Object.assign(channel.destinations.find((d) => d.id === 'archive')!.sender, { directory: archive });
  const engine = await startTestEngine({ 'file-drop-to-lis.yaml': stringify(channel) });
  t.after(() => engine.stop());

  const names = hl7v2SampleNames();
  for (const n of names) copyFileSync(join(HL7V2_SAMPLES_DIR, n), join(inbox, n));
  await sleep(200);
  assert.equal((await storedMessages(engine, 'file-drop-to-lis')).length, 0, 'nothing taken without its marker');
  for (const n of names) writeFileSync(join(inbox, `${n}.done`), '');
  await waitFor('every sample in done/', () => filesIn(join(inbox, 'done')).length === names.length, 20_000);
  await engine.drained();
  assert.deepEqual(filesIn(join(inbox, 'error')), []);
  assert.deepEqual(filesIn(inbox), [], 'the markers are removed');
  const stored = await storedMessages(engine, 'file-drop-to-lis');
  // One stored message per order: sample 07 holds two.
  assert.equal(stored.length, names.length + 1);
  for (const m of stored) for (const d of m.deliveries) assert.equal(d.status, 'acknowledged', `${m.sourceId} → ${d.destinationId}`);
  assert.equal((await sandboxMessages(lis)).length, stored.length);
  assert.deepEqual(
    filesIn(archive),
    stored.map((m) => `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${m.id}.hl7`).sort(),
  );
});
