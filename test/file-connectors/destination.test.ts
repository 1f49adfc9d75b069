/**
 * The file destination in a running engine: one file per message, written atomically (no
 * .tmp left, the content is the stored payload byte for byte), named by the template; a
 * resend replaces the file; a missing directory is retried until it is back.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine } from '../support/in-process.ts';
import { filesIn, storedMessages, tempDir, waitFor } from './support.ts';

function webhookToFiles(id: string, destinations: Array<{ id: string; mapping: string; sender: string }>, delivery = 'maxAttempts: 50\n      initialBackoffMs: 50\n      maxBackoffMs: 100'): string {
  return `id: ${id}
source:
  type: webhook
  path: /channels/${id}
mapping: platform-result
destinations:
${destinations
  .map(
    (d) => `  - id: ${d.id}
    mapping: ${d.mapping}
    sender:
      type: file
${d.sender.replace(/^/gm, '      ')}
    delivery:
      ${delivery}`,
  )
  .join('\n')}
`;
}

test('one file per message per destination, atomically written: no .tmp left, content equals the stored payload', async (t) => {
  const out = tempDir(t);
  const hl7Dir = join(out, 'lis');
  const fhirDir = join(out, 'ehr');
  mkdirSync(hl7Dir);
  const engine = await startTestEngine({
    'to-files.yaml': webhookToFiles('to-files', [
      { id: 'lis-file', mapping: 'oru-r01-lis', sender: `directory: ${JSON.stringify(hl7Dir)}` },
      { id: 'ehr-file', mapping: 'fhir-r4-ehr', sender: `directory: ${JSON.stringify(fhirDir)}\ncreateDirectory: true\nfileName: "{date}-{destinationId}-{controlId}.{ext}"` },
    ]),
  });
  t.after(() => engine.stop());
  for (let i = 1; i <= 3; i++) assert.equal((await engine.post('/channels/to-files', makeEvent(`res_file_${i}`, { patientId: `pat_${i}` }))).status, 201);
  await engine.drained();

  const stored = await storedMessages(engine, 'to-files');
  assert.equal(stored.length, 3);
  assert.deepEqual(filesIn(hl7Dir), stored.map((m) => `${m.id}.hl7`).sort(), 'default name {messageId}.{ext}');
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  for (const m of stored) {
    const lis = m.deliveries.find((d) => d.destinationId === 'lis-file')!;
    const ehr = m.deliveries.find((d) => d.destinationId === 'ehr-file')!;
    assert.equal(lis.status, 'acknowledged');
    assert.equal(readFileSync(join(hl7Dir, `${m.id}.hl7`), 'utf8'), lis.payload, 'byte for byte the stored payload');
    const ehrName = `${day}-ehr-file-${ehr.controlId}.json`;
    assert.equal(readFileSync(join(fhirDir, ehrName), 'utf8'), ehr.payload);
    assert.equal(JSON.parse(ehr.payload).resourceType, 'Bundle');
    assert.match(lis.attempts[0]!.response ?? '', new RegExp(`^${m.id}\\.hl7 \\(\\d+ bytes\\)$`));
  }
  assert.equal(filesIn(fhirDir).length, 3);
  // Hidden names included: no temporary file was left behind.
  assert.deepEqual(readdirSync(hl7Dir).filter((n) => n.startsWith('.')), []);
  assert.deepEqual(readdirSync(fhirDir).filter((n) => n.startsWith('.')), []);
});

test('a resend replaces the file of the same name: still one file per message', async (t) => {
  const out = tempDir(t);
  const engine = await startTestEngine({ 'to-files.yaml': webhookToFiles('to-files', [{ id: 'lis-file', mapping: 'oru-r01-lis', sender: `directory: ${JSON.stringify(out)}` }]) });
  t.after(() => engine.stop());
  const { messageId } = (await (await engine.post('/channels/to-files', makeEvent('res_resend'))).json()) as { messageId: string };
  await engine.drained();
  const before = readFileSync(join(out, `${messageId}.hl7`), 'utf8');
  rmSync(join(out, `${messageId}.hl7`));
  assert.equal((await engine.admin(`/api/messages/${messageId}/resend`, { method: 'POST' })).status < 300, true);
  await waitFor('the file written again', () => filesIn(out).length === 1);
  await engine.drained();
  assert.deepEqual(readdirSync(out), [`${messageId}.hl7`]);
  assert.equal(readFileSync(join(out, `${messageId}.hl7`), 'utf8'), before, 'the same control id and bytes');
  assert.equal((await engine.admin(`/api/messages/${messageId}/resend`, { method: 'POST' })).status < 300, true);
  await engine.drained();
  assert.deepEqual(readdirSync(out), [`${messageId}.hl7`], 'a second resend over the existing file: replaced, not added');
});

test('a directory that disappears is retried (FILE_DIRECTORY_UNAVAILABLE) and delivered once it is back', async (t) => {
  const out = tempDir(t);
  const dir = join(out, 'share');
  mkdirSync(dir);
  const engine = await startTestEngine({ 'to-files.yaml': webhookToFiles('to-files', [{ id: 'share', mapping: 'oru-r01-lis', sender: `directory: ${JSON.stringify(dir)}` }]) });
  t.after(() => engine.stop());
  rmSync(dir, { recursive: true });
  const { messageId } = (await (await engine.post('/channels/to-files', makeEvent('res_unmounted'))).json()) as { messageId: string };
  await waitFor('a failed attempt', async () => {
    const [m] = await storedMessages(engine, 'to-files');
    return m?.deliveries[0]?.status === 'errored';
  });
  const [m] = await storedMessages(engine, 'to-files');
  const attempt = m!.deliveries[0]!.attempts[0]!;
  assert.equal(attempt.code, 'FILE_DIRECTORY_UNAVAILABLE');
  assert.match(attempt.detail ?? '', /^create failed in .*share \(ENOENT\)$/);
  mkdirSync(dir);
  await engine.drained();
  assert.deepEqual(readdirSync(dir), [`${messageId}.hl7`]);
  assert.ok(engine.logs.some((l) => l.includes('"code":"FILE_DIRECTORY_UNAVAILABLE"')));
});

test("a file destination's directory can be a file drop inbox: the temporary files are never read, each file once", async (t) => {
  const out = tempDir(t);
  const engine = await startTestEngine({
    'to-files.yaml': webhookToFiles('to-files', [{ id: 'drop', mapping: 'oru-r01-lis', sender: `directory: ${JSON.stringify(out)}` }]),
    // stableMs 0: the reader relies on the writer renaming into place.
    'from-files.yaml': `id: from-files\nsource:\n  type: file\n  directory: ${JSON.stringify(out)}\n  pattern: "*.hl7"\n  stableMs: 0\n  pollIntervalMs: 10\nmapping: hl7v2-oru\n`,
  });
  t.after(() => engine.stop());
  for (let i = 0; i < 20; i++) assert.equal((await engine.post('/channels/to-files', makeEvent(`res_chain_${i}`, { patientId: `pat_${i}` }))).status, 201);
  await engine.drained();
  await waitFor('20 files in done/', () => filesIn(join(out, 'done')).length === 20);
  assert.deepEqual(filesIn(join(out, 'error')), [], 'no partial file was ever read');
  const read = await storedMessages(engine, 'from-files');
  const written = await storedMessages(engine, 'to-files');
  assert.deepEqual(read.map((m) => m.rawInput).sort(), written.map((m) => m.deliveries[0]!.payload).sort());
});
