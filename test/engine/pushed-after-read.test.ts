/**
 * A lane's rows come from two places: the store, read by the lane, and the rows an intake just
 * committed, pushed to the lane when the main thread hears of the commit from the writer thread.
 * A read can see a commit before that news arrives: the row is then read and sent, and pushed
 * afterwards. It must not be sent a second time (behind the rows after it: an older result
 * after its correction). Seen under the closed-loop bench as 'dups' at the LIS.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommittedDelivery } from '../../src/store/types.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';

const EVENTS = 5;

test('rows a lane read from the store before their commit was pushed to it are sent once, in order', async (t) => {
  const lis = await startRecordingReceiver();
  const engine = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.port, 'lanes: 1\n      maxAttempts: 3') });
  t.after(async () => {
    await engine.stop();
    await lis.close();
  });
  const channel = engine.engine.channels.find((c) => c.id === 'to-lis')!;
  // The news of each commit is held back, as when the main thread is busy while the writer commits.
  const held: Array<readonly CommittedDelivery[]> = [];
  const take = channel.take.bind(channel);
  channel.take = (rows) => {
    held.push(rows);
  };

  for (let i = 0; i < EVENTS; i++) {
    const res = await engine.post('/channels/to-lis', makeEvent(`res_pushed_${i}`, { patientId: 'pushed-1' }));
    assert.equal(res.status, 201);
  }
  assert.equal(held.flat().length, EVENTS, 'every commit was heard of (and held back)');
  // The lane reads the store (as after any wake-up) and sends what it finds.
  channel.wake();
  await lis.waitFor((frames) => frames.length >= EVENTS, 10_000);

  // The news arrives late; then one more result, which goes after anything the news would resend.
  channel.take = take;
  for (const rows of held) take(rows);
  const res = await engine.post('/channels/to-lis', makeEvent('res_pushed_last', { patientId: 'pushed-1' }));
  assert.equal(res.status, 201);
  await lis.waitFor((frames) => frames.some((f) => f.fillerId === 'res_pushed_last'), 10_000);
  await engine.drained();

  const fillers = lis.frames.map((f) => f.fillerId);
  assert.deepEqual(fillers, [...Array.from({ length: EVENTS }, (_, i) => `res_pushed_${i}`), 'res_pushed_last'], 'each sent once, in intake order');
});
