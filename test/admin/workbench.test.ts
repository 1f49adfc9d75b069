/**
 * Issue 12, the mapping workbench's side in the engine: a preview with edited files changes
 * nothing on disk or in the running channel; a save of an invalid configuration is refused
 * with the problems (file, line, path) and writes nothing; a valid one is written, audited and
 * reloaded, and the running channel sends what the preview showed.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { REPO, startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

const json = { 'content-type': 'application/json' };

test('preview with edits changes nothing; save refuses an invalid configuration and writes a valid one, which then runs', async (t) => {
  const lis = await startSandboxLis();
  const e = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) });
  t.after(async () => {
    await e.stop();
    await lis.stop();
  });
  cpSync(join(REPO, 'samples'), join(e.dir, 'samples'), { recursive: true });
  const file = join(e.dir, 'mappings', 'oru-r01-lis.yaml');
  const original = readFileSync(file, 'utf8');
  const edited = original.replace('sendingApplication: CONDUIT ', 'sendingApplication: EDITED ');
  const broken = original.replace('processingId: P ', 'processingId: X ');

  const samples = (await (await e.admin('/api/workbench/samples?channel=to-lis')).json()) as { samples: Array<{ name: string }> };
  assert.ok(samples.samples.some((s) => s.name === 'full-bmp-panel'));

  const preview = async (files: Record<string, string>) =>
    (await (await e.admin('/api/workbench/preview', { method: 'POST', headers: json, body: JSON.stringify({ channel: 'to-lis', sample: 'full-bmp-panel', files }) })).json()) as {
      issues: Array<{ file: string; line?: number; path: string; message: string }>;
      result?: { reports: Array<{ outputs: Array<{ payload: string }> }>; golden?: Array<{ status: string }> };
    };
  const p = await preview({ 'mappings/oru-r01-lis.yaml': edited });
  assert.deepEqual(p.issues, []);
  assert.match(p.result!.reports[0]!.outputs[0]!.payload, /^MSH\|\^~\\&\|EDITED\|/);
  const bad = await preview({ 'mappings/oru-r01-lis.yaml': broken });
  assert.equal(bad.issues.length, 1);
  assert.equal(bad.issues[0]!.file, 'mappings/oru-r01-lis.yaml');
  assert.equal(bad.issues[0]!.path, 'settings.processingId');
  assert.equal(bad.issues[0]!.line, original.split('\n').findIndex((l) => l.startsWith('  processingId')) + 1);
  assert.equal(readFileSync(file, 'utf8'), original, 'a preview writes nothing');

  // Outside the workbench's files: refused.
  const outside = await e.admin('/api/workbench/save', { method: 'POST', headers: json, body: JSON.stringify({ files: { '../etc/passwd': 'x' } }) });
  assert.equal(outside.status, 422);
  const refused = await e.admin('/api/workbench/save', { method: 'POST', headers: json, body: JSON.stringify({ files: { 'mappings/oru-r01-lis.yaml': broken } }) });
  assert.equal(refused.status, 422);
  assert.equal(((await refused.json()) as { issues: unknown[] }).issues.length, 1);
  assert.equal(readFileSync(file, 'utf8'), original, 'an invalid save writes nothing');

  const saved = await e.admin('/api/workbench/save', { method: 'POST', headers: json, body: JSON.stringify({ files: { 'mappings/oru-r01-lis.yaml': edited } }) });
  assert.equal(saved.status, 200);
  assert.deepEqual(((await saved.json()) as { reload: { applied: boolean } }).reload.applied, true);
  assert.equal(readFileSync(file, 'utf8'), edited);
  assert.equal((await e.post('/channels/to-lis', makeEvent('res_WORKBENCH_SAVED'))).status, 201);
  await e.drained();
  assert.match((await sandboxMessages(lis)).at(-1)!, /^MSH\|\^~\\&\|EDITED\|/);

  const { events } = (await (await e.admin('/api/audit?action=configuration.change')).json()) as { events: Array<{ outcome: string; detail: { files: string } }> };
  assert.deepEqual(
    events.map((x) => [x.outcome, x.detail.files]),
    [
      ['success', 'mappings/oru-r01-lis.yaml'],
      ['failure', 'mappings/oru-r01-lis.yaml'],
    ],
  );
});
