/**
 * A message carries its lane lease's end (sendBy, on the process-wide monotonic clock): one that
 * waited on the sender thread past it, or reached the MLLP sender after it, is not written and
 * comes back as LEASE_LOST, ending its run. This is what keeps an instance paused between its
 * lease check and the write (SIGSTOP) from sending on a lane another instance delivers now.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mllpDestinationConfig, mllpSenderPlugin } from '../../../src/senders/mllp/index.ts';
import { MllpSender } from '../../../src/senders/mllp/sender.ts';
import { SenderThread } from '../../../src/senders/thread/index.ts';
import type { SenderPlugin } from '../../../src/senders/types.ts';
import { monotonicMs } from '../../../src/util/monotonic.ts';
import { answer, startRecordingReceiver } from '../../support/recording-receiver.ts';
import { captureLog, outbound } from '../../protocols/mllp/helpers.ts';

test('a message that waited on the sender thread past its sendBy is not written, nor anything queued after it', { timeout: 30_000 }, async (t) => {
  // The first frame's AA comes late: the second waits behind it on the thread, past its sendBy.
  const lis = await startRecordingReceiver({ script: { 1: answer.ack('AA', 500) } });
  const { log } = captureLog();
  const thread = new SenderThread(log);
  t.after(async () => {
    await thread.close();
    await lis.close();
  });
  const mllp = await thread.open(mllpSenderPlugin as SenderPlugin<unknown>, mllpDestinationConfig.parse({ host: '127.0.0.1', port: lis.port, ackTimeoutMs: 5000 }));

  const run = mllp.startRun();
  const [first, late, after] = await Promise.all([
    mllp.enqueue(outbound('S1'), run),
    mllp.enqueue({ ...outbound('S2'), sendBy: monotonicMs() + 50 }, run),
    mllp.enqueue(outbound('S3'), run),
  ]);
  assert.equal(first?.outcome.status, 'acknowledged');
  assert.equal(late?.outcome.status, 'retryable');
  assert.equal(late?.outcome.status === 'retryable' && late.outcome.code, 'LEASE_LOST');
  assert.equal(after, undefined, 'the run ended at the message not written');
  assert.deepEqual(lis.frames.map((f) => f.controlId), ['S1']);

  const again = mllp.startRun();
  const inTime = await mllp.enqueue({ ...outbound('S4'), sendBy: monotonicMs() + 60_000 }, again);
  assert.equal(inTime?.outcome.status, 'acknowledged', 'a sendBy still ahead is sent');
  assert.deepEqual(lis.frames.map((f) => f.controlId), ['S1', 'S4']);
});

test('the MLLP sender does not write a message whose sendBy passed, connected or not', async (t) => {
  const lis = await startRecordingReceiver();
  const { log } = captureLog();
  const sender = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port: lis.port, ackTimeoutMs: 2000 }), { log });
  t.after(async () => {
    await sender.close();
    await lis.close();
  });
  const signal = new AbortController().signal;
  const past = await sender.send({ ...outbound('P1'), sendBy: monotonicMs() - 1 }, signal);
  assert.equal(past.status === 'retryable' && past.code, 'LEASE_LOST');
  assert.match(past.status === 'retryable' ? past.detail : '', /lease may have run out/);
  assert.equal((await sender.send(outbound('P2'), signal)).status, 'acknowledged');
  const pastConnected = await sender.send({ ...outbound('P3'), sendBy: monotonicMs() - 1 }, signal);
  assert.equal(pastConnected.status === 'retryable' && pastConnected.code, 'LEASE_LOST');
  assert.equal((await sender.send({ ...outbound('P4'), sendBy: monotonicMs() + 60_000 }, signal)).status, 'acknowledged');
  assert.deepEqual(lis.frames.map((f) => f.controlId), ['P2', 'P4']);
});
