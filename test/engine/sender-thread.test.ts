/**
 * Senders run on the sender thread (src/senders/thread): a lane hands it its rows once their
 * marks are committed, and the thread sends each as soon as the LIS acknowledged the one before.
 * What must hold, on a real MLLP receiver: one patient's results arrive in intake order; the
 * first answer that is not AA ends the run, so nothing after an AE reaches the LIS before the
 * AE'd message is sent again and acknowledged; after an AR the lane goes on, in order, each
 * result once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { generateEvents } from '../support/platform-events.ts';
import { answer, type ReceivedFrame, startRecordingReceiver } from '../support/recording-receiver.ts';

const EVENTS = 20;

async function run(t: test.TestContext, refuse: 'AE' | 'AR', refused: number) {
  const events = generateEvents({ events: EVENTS, patients: 1, runId: `st${refuse}` });
  let refusedOnce = false;
  const lis = await startRecordingReceiver({
    script: (n, frame) => {
      // The first answer waits, so the results posted meanwhile are sent as one run.
      if (n === 1) return answer.ack('AA', 300);
      if (frame.fillerId === events[refused]!.accession && !refusedOnce) {
        refusedOnce = true;
        return answer.ack(refuse, 0, 'refused by the test');
      }
      return undefined;
    },
  });
  const engine = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.port, 'lanes: 1\n      maxAttempts: 5\n      initialBackoffMs: 100\n      maxBackoffMs: 100') });
  t.after(async () => {
    await engine.stop();
    await lis.close();
  });
  for (const e of events) assert.equal((await engine.post('/channels/to-lis', e.body)).status, 201);
  const expected = refuse === 'AE' ? EVENTS + 1 : EVENTS;
  await lis.waitFor((frames) => frames.length >= expected, 30_000);
  await engine.drained();
  return { events, frames: lis.frames, engine };
}

const order = (frames: readonly ReceivedFrame[], events: ReturnType<typeof generateEvents>) => frames.map((f) => events.findIndex((e) => e.accession === f.fillerId));

test('after an AE the sender thread sends nothing more of the lane until the refused message is sent again and acknowledged', { timeout: 60_000 }, async (t) => {
  const { events, frames } = await run(t, 'AE', 5);
  const expected = [...Array(EVENTS).keys()];
  expected.splice(5, 0, 5);
  assert.deepEqual(order(frames, events), expected);
  assert.equal(frames[5]!.ackCode, 'AE');
  assert.equal(frames[6]!.controlId, frames[5]!.controlId, 'sent again with the same MSH-10');
  assert.ok(frames.every((f, i) => i === 5 || f.ackCode === 'AA'));
});

test('after an AR the lane goes on in intake order, each result once, the refused one recorded rejected', { timeout: 60_000 }, async (t) => {
  const { events, frames, engine } = await run(t, 'AR', 7);
  assert.deepEqual(order(frames, events), [...Array(EVENTS).keys()]);
  assert.equal(frames[7]!.ackCode, 'AR');
  const statuses = new Map<string, number>();
  for (const m of (await engine.engine.store.listMessages({ channelId: 'to-lis', limit: 100 })).messages) statuses.set(m.status, (statuses.get(m.status) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(statuses), { acknowledged: EVENTS - 1, rejected: 1 });
});
