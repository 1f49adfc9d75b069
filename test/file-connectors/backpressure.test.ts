/**
 * Over the backlog bound (BACKPRESSURE), files wait in the inbox untouched, and are taken in,
 * in name order, once the backlog drains.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { answer, startRecordingReceiver } from '../support/recording-receiver.ts';
import { fileChannel, filesIn, storedMessages, tempDir, waitFor } from './support.ts';

test('files wait in the inbox while the backlog is over its bound, then go in', async (t) => {
  // The LIS answers AE: every delivery stays pending, and the backlog (bound 2) fills up.
  const lis = await startRecordingReceiver({ script: () => answer.ack('AE') });
  t.after(() => lis.close());
  const inbox = tempDir(t);
  const channel = fileChannel('drop', { inbox, mapping: 'hl7v2-oru', lisPort: lis.port }).replace('maxAttempts: 3', 'maxAttempts: 1000');
  const engine = await startTestEngine({ 'drop.yaml': channel }, { maxBacklog: 2 });
  t.after(() => engine.stop());
  const samples = ['01-poc-glucose-v23.hl7', '02-cbc-v231-dollar-subcomponent.hl7', '03-blood-gas-v24-crlf.hl7', '04-covid-antigen-cwe-v251.hl7', '05-chemistry-final-v251.hl7'];
  for (const s of samples) writeFileSync(join(inbox, s), hl7v2Sample(s));

  await waitFor('two files taken in', () => filesIn(join(inbox, 'done')).length === 2);
  await sleep(500);
  assert.deepEqual(filesIn(join(inbox, 'done')), samples.slice(0, 2), 'the first two by name');
  assert.deepEqual(filesIn(inbox), samples.slice(2), 'the others wait, untouched');
  assert.equal((await storedMessages(engine, 'drop')).length, 2);
  assert.equal(engine.logs.filter((l) => l.includes('"code":"BACKPRESSURE"') && l.includes('"level":40')).length, 1, 'said once at warn');

  lis.setScript(undefined);
  await waitFor('every file taken in', () => filesIn(join(inbox, 'done')).length === samples.length);
  await engine.drained();
  const stored = await storedMessages(engine, 'drop');
  assert.equal(stored.length, samples.length);
  assert.ok(stored.every((m) => m.deliveries[0]!.status === 'acknowledged'));
  assert.deepEqual(filesIn(join(inbox, 'error')), []);
});
