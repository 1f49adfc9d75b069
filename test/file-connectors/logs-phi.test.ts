/**
 * File names may hold patient data (`Smith_John_MRN123.hl7`), and contents always do: no log
 * line, at any level, carries either, on the taken-in, duplicate, refused, move-failed and
 * destination paths. Logs name the directory and a hash of the file name instead.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { nameTag } from '../../src/sources/file/source.ts';
import { startTestEngine } from '../support/in-process.ts';
import { hl7v2Sample } from '../support/repo.ts';
import { filesIn, fixture, tempDir, waitFor } from './support.ts';

/** Strings that only occur in the file names and health data below. */
const PHI = ['Zyxwvutsrq', 'Qwertyuiop', 'MRN-PHI-777', 'PHI-NAME', 'MSH|', 'OBX|', '6.8'];

test('no file name, name, identifier, value or raw message reaches the logs', async (t) => {
  const inbox = tempDir(t);
  const out = tempDir(t);
  const engine = await startTestEngine(
    {
      'drop.yaml': `id: drop
source:
  type: file
  directory: ${JSON.stringify(inbox)}
  pattern: "*.{hl7,json}"
  pollIntervalMs: 20
  stableMs: 50
mapping: hl7v2-oru
destinations:
  - id: archive
    mapping: oru-r01-lis
    sender:
      type: file
      directory: ${JSON.stringify(out)}
`,
    },
    { logLevel: 'trace' },
  );
  t.after(() => engine.stop());
  const phiMessage = hl7v2Sample('05-chemistry-final-v251.hl7').replace("O'Brien^Seán^Pádraig", 'Zyxwvutsrq^Qwertyuiop').replace('H0042871', 'MRN-PHI-777');

  writeFileSync(join(inbox, 'Zyxwvutsrq_MRN-PHI-777_PHI-NAME.hl7'), phiMessage);
  await waitFor('taken in', () => filesIn(join(inbox, 'done')).length === 1);
  writeFileSync(join(inbox, 'Zyxwvutsrq_MRN-PHI-777_PHI-NAME.hl7'), phiMessage);
  await waitFor('taken in again', () => filesIn(join(inbox, 'done')).length === 2);
  writeFileSync(join(inbox, 'Qwertyuiop_PHI-NAME_bad.hl7'), fixture('oru-r01-obx5-empty.hl7').replace('Nguyen', 'Zyxwvutsrq'));
  writeFileSync(join(inbox, 'Qwertyuiop_PHI-NAME.json'), '{"patient": "Zyxwvutsrq", ');
  writeFileSync(join(inbox, 'PHI-NAME-junk.hl7'), 'PID|1||MRN-PHI-777||Zyxwvutsrq\r');
  await waitFor('refused', () => filesIn(join(inbox, 'error')).length === 6);
  // A move that fails after the commit.
  rmSync(join(inbox, 'done'), { recursive: true });
  writeFileSync(join(inbox, 'done'), '');
  writeFileSync(join(inbox, 'Zyxwvutsrq_second_PHI-NAME.hl7'), phiMessage.replace('CHEM-20261121-0412', 'CHEM-2'));
  await waitFor('the move failure', () => engine.logs.some((l) => l.includes('FILE_MOVE_FAILED')));
  await sleep(100);
  await engine.drained();
  assert.equal(filesIn(out).length, 2, 'both messages written by the file destination');

  const lines = engine.logs.filter((l) => /"source":"file"|"sender":"file"/.test(l));
  assert.ok(lines.length >= 6, `${lines.length} file connector log lines`);
  for (const line of engine.logs) for (const s of PHI) assert.ok(!line.includes(s), `log leaks '${s}': ${line}`);
  assert.ok(lines.some((l) => l.includes(`"file":"${nameTag('Zyxwvutsrq_MRN-PHI-777_PHI-NAME.hl7')}"`)), 'files are named by their hash');
  assert.ok(lines.every((l) => l.includes(`"dir":${JSON.stringify(inbox)}`) || l.includes(`"dir":${JSON.stringify(out)}`)), 'and by their directory');
});
