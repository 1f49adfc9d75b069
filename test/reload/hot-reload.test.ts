/**
 * Hot reload under load: 500 messages while the outbound mapping file is replaced twice.
 * None is lost, each is encoded by exactly one mapping version, and that version is recorded
 * with the message; a bad edit is refused and the last good version keeps working.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('500 messages while the mapping is replaced twice: none lost, each encoded by one recorded version', async () => {
  const lis = await startSandboxLis();
  const t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) }, { watch: true });
  after(async () => {
    await t.stop();
    await lis.stop();
  });
  const file = join(t.dir, 'mappings', 'oru-r01-lis.yaml');
  const original = readFileSync(file, 'utf8');
  const facility = (name: string) => original.replace(/sendingFacility: \S+/, `sendingFacility: ${name}`);
  const versions = () => t.engine.channels[0]!.resolved.destinations[0]!.mappingVersion;

  const posted: Promise<Response>[] = [];
  const post = (i: number) => posted.push(t.post('/channels/to-lis', makeEvent(`res_HOT_${i}`, { patientId: `pat_${i % 25}` })));
  const seen = new Set([versions()]);
  for (let i = 0; i < 500; i++) {
    post(i);
    if (i === 150 || i === 330) {
      writeFileSync(file, facility(i === 150 ? 'SITE-B' : 'SITE-C'));
      await until(() => !seen.has(versions()), 'the reload');
      seen.add(versions());
    }
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  const answers = await Promise.all(posted);
  assert.ok(answers.every((r) => r.status === 201));
  await t.drained(60_000);
  assert.equal(seen.size, 3, 'three versions in use');

  const { messages } = (await (await t.admin('/api/messages?limit=500')).json()) as { messages: Array<{ id: string; status: string }> };
  assert.equal(messages.length, 500);
  const byVersion = new Map<string, string>();
  for (const m of messages) {
    const view = (await (await t.admin(`/api/messages/${m.id}`)).json()) as { status: string; deliveries: Array<{ payload: string; mappingVersion: string }> };
    assert.equal(view.status, 'acknowledged');
    const d = view.deliveries[0]!;
    const msh4 = Hl7Message.parse(d.payload).msh.get(4);
    // One version, one output: every message encoded by a version carries that version's MSH-4.
    assert.equal(byVersion.get(d.mappingVersion) ?? msh4, msh4, `${d.mappingVersion} encoded ${msh4}`);
    byVersion.set(d.mappingVersion, msh4);
  }
  assert.deepEqual([...byVersion.values()].sort(), ['POC-PLATFORM', 'SITE-B', 'SITE-C']);
  assert.equal((await sandboxMessages(lis)).length, 500, 'each delivered once: none lost, none re-sent');
});

test('a bad edit is refused with file, line and what was expected; the last good version keeps working', async () => {
  const lis = await startSandboxLis();
  const t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) });
  after(async () => {
    await t.stop();
    await lis.stop();
  });
  const file = join(t.dir, 'mappings', 'oru-r01-lis.yaml');
  const good = t.engine.channels[0]!.resolved.destinations[0]!.mappingVersion;
  writeFileSync(file, readFileSync(file, 'utf8').replace(/processingId: P/, 'processingId: X'));
  const result = await t.engine.reload();
  assert.equal(result.applied, false);
  const issue = result.issues[0]!;
  assert.match(issue.file, /oru-r01-lis\.yaml$/);
  assert.equal(typeof issue.line, 'number');
  assert.equal(issue.path, 'settings.processingId');
  assert.match(issue.message, /P|T|D/);
  assert.ok(t.logs.some((l) => l.includes('configuration not reloaded') && l.includes('settings.processingId')));
  const health = (await (await t.admin("/health")).json()) as { status: string; components: Record<string, string> };
  assert.equal(health.components.configuration, 'degraded');
  assert.equal(t.engine.channels[0]!.resolved.destinations[0]!.mappingVersion, good);
  assert.equal((await t.post('/channels/to-lis', makeEvent('res_AFTER_BAD_EDIT'))).status, 201);
  await t.drained();
});

test('a changed destination restarts its channel; its backlog waits in the store and is delivered', async () => {
  const lis = await startSandboxLis();
  const t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', 9, 'maxAttempts: 100\n      initialBackoffMs: 50\n      maxBackoffMs: 100') });
  after(async () => {
    await t.stop();
    await lis.stop();
  });
  for (let i = 0; i < 5; i++) assert.equal((await t.post('/channels/to-lis', makeEvent(`res_MOVE_${i}`))).status, 201);
  writeFileSync(join(t.dir, 'channels', 'to-lis.yaml'), webhookToMllpChannel('to-lis', lis.mllpPort));
  assert.equal((await t.engine.reload()).applied, true);
  await t.drained();
  assert.equal((await sandboxMessages(lis)).length, 5);
});
