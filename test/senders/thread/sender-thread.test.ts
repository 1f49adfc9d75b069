/**
 * The sender thread (src/senders/thread) on a real MLLP receiver: a run is sent in order, each
 * message on the previous one's AA; a thread that dies (an error no sender caught) answers what
 * it was sending as retryable with SENDER_THREAD_FAILED, is started again, and the senders open
 * again there on their next send; a run begun before the failure sends nothing more.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { mllpDestinationConfig, mllpSenderPlugin } from '../../../src/senders/mllp/index.ts';
import { SenderThread } from '../../../src/senders/thread/index.ts';
import type { SenderPlugin } from '../../../src/senders/types.ts';
import { crashingSenderPlugin } from '../../support/crashing-sender.ts';
import { startRecordingReceiver } from '../../support/recording-receiver.ts';
import { captureLog, outbound } from '../../protocols/mllp/helpers.ts';

test('a run goes out in order; a failed thread is started again and its senders open again on their next send', { timeout: 30_000 }, async (t) => {
  const lis = await startRecordingReceiver();
  const { log, lines } = captureLog();
  const thread = new SenderThread(log);
  t.after(async () => {
    await thread.close();
    await lis.close();
  });
  const mllp = await thread.open(mllpSenderPlugin as SenderPlugin<unknown>, mllpDestinationConfig.parse({ host: '127.0.0.1', port: lis.port, ackTimeoutMs: 2000 }));
  const crashing = await thread.open(crashingSenderPlugin as SenderPlugin<unknown>, {});

  const run = mllp.startRun();
  const sent = await Promise.all(['A1', 'A2', 'A3'].map((id) => mllp.enqueue(outbound(id), run)));
  assert.deepEqual(sent.map((s) => s?.outcome.status), ['acknowledged', 'acknowledged', 'acknowledged']);
  assert.deepEqual(lis.frames.map((f) => f.controlId), ['A1', 'A2', 'A3']);

  // A run begun before the failure.
  const before = mllp.startRun();
  const crash = await crashing.send(outbound('X1'), new AbortController().signal);
  assert.equal(crash.status, 'retryable');
  assert.equal(crash.status === 'retryable' && crash.code, 'SENDER_THREAD_FAILED');
  assert.ok(lines.some((l) => l.includes('SENDER_THREAD_FAILED') && l.includes('starting it again')), 'the failure is logged');

  // Another lane's sender sends again until the thread is back, as a lane retries.
  const other = await thread.open(mllpSenderPlugin as SenderPlugin<unknown>, mllpDestinationConfig.parse({ host: '127.0.0.1', port: lis.port, ackTimeoutMs: 2000 }));
  const deadline = Date.now() + 10_000;
  let outcome = await other.send(outbound('C1'), new AbortController().signal);
  while (outcome.status !== 'acknowledged' && Date.now() < deadline) {
    assert.equal(outcome.status === 'retryable' && outcome.code, 'SENDER_THREAD_FAILED');
    await sleep(100);
    outcome = await other.send(outbound('C1'), new AbortController().signal);
  }
  assert.equal(outcome.status, 'acknowledged');

  assert.equal(await mllp.enqueue(outbound('B1'), before), undefined, 'nothing more of a run begun before the failure');
  const again = mllp.startRun();
  assert.equal((await mllp.enqueue(outbound('D1'), again))?.outcome.status, 'acknowledged', 'opened again on the new thread');
  assert.deepEqual(lis.frames.map((f) => f.controlId), ['A1', 'A2', 'A3', 'C1', 'D1']);
});
