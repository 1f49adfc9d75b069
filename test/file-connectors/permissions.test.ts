/**
 * Files moved out of the inbox hold patient data: in done/ and error/ they are owner-only
 * (0600), like each `.error.txt`, whatever mode the writer gave them; done/ and error/ are
 * created owner-only (0700).
 */
import assert from 'node:assert/strict';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { fileChannel, filesIn, tempDir, waitFor } from './support.ts';

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

test('files in done/ and error/ and every .error.txt are 0600; done/ and error/ are created 0700', async (t) => {
  const inbox = tempDir(t);
  for (const [name, text] of [['good.hl7', hl7v2Sample('05-chemistry-final-v251.hl7')], ['bad.hl7', 'not HL7\n']] as const) {
    writeFileSync(join(inbox, name), text);
    chmodSync(join(inbox, name), 0o644);
  }
  const engine = await startTestEngine({ 'drop.yaml': fileChannel('drop', { inbox, mapping: 'hl7v2-oru' }) });
  t.after(() => engine.stop());
  await waitFor('both files moved', () => filesIn(join(inbox, 'done')).length === 1 && filesIn(join(inbox, 'error')).length === 2);
  assert.equal(mode(join(inbox, 'done')), '700');
  assert.equal(mode(join(inbox, 'error')), '700');
  assert.equal(mode(join(inbox, 'done', 'good.hl7')), '600');
  assert.equal(mode(join(inbox, 'error', 'bad.hl7')), '600');
  assert.equal(mode(join(inbox, 'error', 'bad.hl7.error.txt')), '600');
});
