/**
 * A backlog left by an engine with `lanes: 4` must still be delivered after a restart with
 * fewer lanes (the integrator turned parallelism down): rows stored on lanes 1..3 have to be
 * moved to the lanes that now exist, keeping the order per patient.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createWorkspace, type EngineProcess, sampleChannel, startEngine, waitForDrained } from '../support/engine-process.ts';
import { generateEvents } from '../support/platform-events.ts';
import { answer, startRecordingReceiver } from '../support/recording-receiver.ts';

const PATH = '/channels/platform-to-lis';

for (const lanesAfter of [1, 2]) {
  test(`a backlog stored with lanes: 4 is delivered after a restart with lanes: ${lanesAfter}, in order per patient`, { timeout: 60_000 }, async (t) => {
    // The LIS answers AE at first: every delivery stays pending (errored, retried later).
    const receiver = await startRecordingReceiver({ script: () => answer.ack('AE') });
    const channelFile = (lanes: number) =>
      sampleChannel({ mllpPort: receiver.port, path: PATH, delivery: { lanes, initialBackoffMs: 100, maxBackoffMs: 200, maxAttempts: 1000 } });
    const workspace = createWorkspace({ 'platform-to-lis.yaml': channelFile(4) });
    const engines: EngineProcess[] = [];
    t.after(async () => {
      for (const e of engines) await e.kill('SIGKILL');
      await receiver.close();
      workspace.remove();
    });

    const first = await startEngine({ workspace });
    engines.push(first);
    // 12 patients, 3 results each, so every one of the 4 lanes gets some.
    const events = generateEvents({ events: 36, patients: 12, runId: `l${lanesAfter}` });
    for (const e of events) {
      const res = await fetch(first.url + PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: e.body });
      assert.equal(res.status, 201);
    }
    await receiver.waitFor((frames) => new Set(frames.map((f) => f.connectionId)).size >= 4, 20_000);
    await first.stop();

    writeFileSync(join(workspace.channelsDir, 'platform-to-lis.yaml'), channelFile(lanesAfter));
    receiver.setScript(undefined);
    const seenBefore = receiver.frames.length;
    const second = await startEngine({ workspace });
    engines.push(second);
    await waitForDrained(second, 'platform-to-lis', 30_000);

    const accepted = receiver.frames.slice(seenBefore).filter((f) => f.ackCode === 'AA');
    const firstAccepted = new Map<string, number>();
    for (const f of accepted) if (!firstAccepted.has(f.fillerId!)) firstAccepted.set(f.fillerId!, f.n);
    assert.equal(firstAccepted.size, events.length, 'every result was accepted by the LIS');
    for (let p = 0; p < 12; p++) {
      const order = events.filter((e) => e.index % 12 === p).map((e) => firstAccepted.get(e.accession)!);
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `patient ${p}: results accepted in order`);
    }
    await second.stop();
  });
}
