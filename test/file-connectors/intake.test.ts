/**
 * A file dropped in the inbox is stored, delivered to the sandbox LIS as ORU^R01 and moved
 * to done/ unchanged: HL7 v2 files (hl7v2-oru mapping) and platform events in JSON
 * (platform-result mapping), with the default done and error directories.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample, platformEvent } from '../support/repo.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { fileChannel, filesIn, storedMessages, tempDir, waitFor } from './support.ts';

test('an HL7 v2 file is stored, delivered to the LIS with its results, and moved to done/ as it was', async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const inbox = tempDir(t);
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru', lisPort: lis.mllpPort, source: { pattern: '*.hl7' } }) });
  t.after(() => engine.stop());

  const text = hl7v2Sample('05-chemistry-final-v251.hl7');
  writeFileSync(join(inbox, 'chem-0412.hl7'), text);
  await waitFor('the file in done/', () => filesIn(join(inbox, 'done')).includes('chem-0412.hl7'));
  assert.deepEqual(filesIn(inbox), [], 'nothing left in the inbox');
  assert.deepEqual(filesIn(join(inbox, 'error')), []);
  assert.equal(readFileSync(join(inbox, 'done', 'chem-0412.hl7'), 'utf8'), text);

  await engine.drained();
  const [stored, ...more] = await storedMessages(engine, 'drop');
  assert.equal(more.length, 0);
  assert.equal(stored!.rawInput, text, 'stored as read');
  assert.equal(stored!.sourceId, 'CHEM-20261121-0412', 'the mapping keys an HL7 v2 message by MSH-10');
  assert.equal(stored!.deliveries[0]!.status, 'acknowledged');
  const received = await waitFor('the LIS to store it', async () => (await sandboxMessages(lis))[0]);
  assert.match(received, /^MSH\|/);
  assert.match(received, /\rOBX\|2\|NM\|[^|]*Potassium[^|]*\|\|6\.8\|/);
  assert.ok(engine.logs.some((l) => l.includes('file taken in, moved to done')));
});

test('a JSON platform event is stored, delivered and moved to done/; files the pattern does not match stay', async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const inbox = tempDir(t);
  const engine = await startTestEngine({
    'events.yaml': fileChannel('events', { inbox, mapping: 'platform-result', lisPort: lis.mllpPort, source: { pattern: '*.json' } }),
  });
  t.after(() => engine.stop());

  const event = JSON.stringify(platformEvent('full-bmp-panel'), null, 2);
  writeFileSync(join(inbox, 'readme.md'), 'not a result');
  writeFileSync(join(inbox, 'BMP-PANEL.JSON'), event);
  await waitFor('the event in done/', () => filesIn(join(inbox, 'done')).includes('BMP-PANEL.JSON'));
  await engine.drained();
  const stored = await storedMessages(engine, 'events');
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.rawInput, event);
  assert.equal(stored[0]!.deliveries[0]!.status, 'acknowledged');
  assert.equal((await sandboxMessages(lis)).length, 1);
  assert.deepEqual(filesIn(inbox), ['readme.md'], 'a name the pattern does not match is left alone');
});

test('files ready together are taken in by name order', async (t) => {
  const inbox = tempDir(t);
  const msh = (id: string) => `MSH|^~\\&|A|B|C|D|20261120091500||ORU^R01|${id}|P|2.5.1\rPID|1||X\r`;
  // Written in reverse name order before the engine starts, so that its first scan finds them all.
  // (A file that appears in a later scan goes in after those found before it, whatever its name.)
  for (const n of ['05', '04', '03', '02', '01']) writeFileSync(join(inbox, `r-${n}.hl7`), msh(`CTL-${n}`));
  const engine = await startTestEngine({ 'plain.yaml': fileChannel('plain', { inbox, source: { format: 'hl7v2', stableMs: 0 } }) });
  t.after(() => engine.stop());
  await waitFor('five files in done/', () => filesIn(join(inbox, 'done')).length === 5);
  const stored = await storedMessages(engine, 'plain');
  assert.deepEqual(
    stored.map((m) => m.sourceId),
    ['CTL-01', 'CTL-02', 'CTL-03', 'CTL-04', 'CTL-05'],
    'a channel without a mapping keys HL7 v2 by MSH-10; stored in name order',
  );
});
