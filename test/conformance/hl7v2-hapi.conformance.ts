/**
 * Conformance tier: every ORU^R01 the sample channels produce from every sample is checked
 * by an independent implementation, HAPI HL7v2 2.6.0: strict parse plus required-field walk
 * (0 issues), and an AA from HAPI's own MLLP receiver when Conduit delivers it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { readAsSource } from '../../src/cli/preview.ts';
import { loadConfiguration } from '../../src/config/load.ts';
import { processInput } from '../../src/engine/channel.ts';
import { listSamples, sampleDirFor } from '../../src/testing/samples.ts';
import { ensureHapiHl7Peer, startHapiMllpReceiver, validateHl7Files } from '../peers/hapi-hl7v2/hapi.ts';
import { REPO, startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';

const SAMPLES = join(REPO, 'samples', 'platform-events');
/** The valid sample events, as file names (not the golden outputs beside them, not invalid-*). */
const samples = listSamples(SAMPLES, 'json')
  .filter((s) => !s.invalid)
  .map((s) => `${s.name}.json`);

before(async () => {
  await ensureHapiHl7Peer();
});

test('every ORU^R01 the sample channels produce validates under HAPI with 0 issues', async () => {
  const config = loadConfiguration({ channelsDir: join(REPO, 'channels'), mappingsDir: join(REPO, 'mappings') });
  assert.deepEqual(config.issues, []);
  const out = mkdtempSync(join(tmpdir(), 'conduit-oru-'));
  after(() => rmSync(out, { recursive: true, force: true }));
  const files: string[] = [];
  for (const channel of config.channels) {
    if (!channel.mapping || !channel.destinations.some((d) => d.encoder.format === 'hl7v2')) continue;
    const dir = sampleDirFor(join(REPO, 'samples'), channel.config.mapping!, channel.mapping.format);
    for (const sample of listSamples(dir, channel.mapping.format).filter((s) => !s.invalid)) {
      // Read as the channel's source reads the bytes (MSH-18), as `conduit test` does.
      const outputs = [];
      for (const input of readAsSource(channel, readFileSync(sample.path), basename(sample.path))) {
        outputs.push(...(await processInput(channel, input, new Date().toISOString())).flatMap((p) => p.outputs));
      }
      for (const [i, o] of outputs.filter((x) => x.destination.encoder.format === 'hl7v2').entries()) {
        const file = join(out, `${channel.config.id}--${o.destination.config.id}--${sample.name}--${i}.hl7`);
        writeFileSync(file, o.payload);
        files.push(file);
      }
    }
  }
  assert.ok(files.length >= samples.length, 'each sample produced an ORU^R01');
  const results = await validateHl7Files(files);
  for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.file.split('/').pop()} ${r.issues.join('; ')}`);
  assert.equal(results.length, files.length);
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => ({ file: r.file, issues: r.issues })),
    [],
  );
});

test("HAPI's MLLP receiver answers AA to every sample Conduit delivers", async () => {
  const hapi = await startHapiMllpReceiver();
  after(() => hapi.close());
  const t = await startTestEngine({ 'to-hapi.yaml': webhookToMllpChannel('to-hapi', hapi.port) });
  after(() => t.stop());
  const ids: string[] = [];
  for (const sample of samples) {
    const res = await t.post('/channels/to-hapi', readFileSync(join(SAMPLES, sample), 'utf8'));
    assert.equal(res.status, 201, `${sample}: ${await res.clone().text()}`);
    ids.push(((await res.json()) as { messageId: string }).messageId);
  }
  await t.drained(60_000);
  const received = await hapi.waitForMessages(samples.length, 30_000);
  for (const m of received) console.log(`HAPI ${m.ack} ${m.controlId} ${m.issues.join('; ')}`);
  assert.equal(new Set(received.map((m) => m.controlId)).size, samples.length, 'each sample delivered exactly once in a clean run');
  assert.deepEqual(
    received.filter((m) => m.ack !== 'AA'),
    [],
  );
  for (const id of ids) {
    const view = (await (await t.admin(`/api/messages/${id}`)).json()) as { status: string; deliveries: Array<{ attempts: Array<{ response?: string }> }> };
    assert.equal(view.status, 'acknowledged');
    assert.match(view.deliveries[0]!.attempts.at(-1)!.response ?? '', /MSA\|AA\|/);
  }
});
