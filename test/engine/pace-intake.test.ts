/**
 * DeliveryPolicy.paceIntake: while a lane of the destination is delivering with a window of rows
 * ahead of it, new inputs wait before they are accepted, so the backlog a burst leaves stays
 * about a window long; without it every input is accepted as soon as it is stored. A
 * destination that fails never holds intake. Counted, never timed: the backlog at each 2xx is
 * the inputs answered so far less the frames the LIS received.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PACE_ROWS } from '../../src/engine/dispatcher.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { type RecordingReceiver, startRecordingReceiver } from '../support/recording-receiver.ts';

const EVENTS = 500;
const CONCURRENCY = 32;
/**
 * A window, the inputs let through in one tick while the lanes had room (at most all those in
 * flight), and as many again for inputs let go after waiting a second on a slow machine.
 */
const PACED_BOUND = PACE_ROWS + 2 * CONCURRENCY;

/** Posts EVENTS results of one patient, CONCURRENCY at a time; returns the largest backlog seen at a 2xx. */
async function burst(engine: TestEngine, lis: RecordingReceiver, run: string): Promise<number> {
  const before = lis.frames.length;
  let next = 0;
  let answered = 0;
  let largest = 0;
  const worker = async () => {
    while (next < EVENTS) {
      const i = next++;
      const res = await engine.post(`/channels/${run}`, makeEvent(`res_${run}_${i}`, { patientId: `p-${run}` }));
      assert.equal(res.status, 201, await res.text());
      answered++;
      largest = Math.max(largest, answered - (lis.frames.length - before));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return largest;
}

async function engineFor(run: string, port: number, paceIntake: boolean): Promise<TestEngine> {
  return startTestEngine({ [`${run}.yaml`]: webhookToMllpChannel(run, port, `maxAttempts: 3\n      initialBackoffMs: 50\n      paceIntake: ${paceIntake}`) }, { durability: 'normal' });
}

const pacerOf = (engine: TestEngine, id: string) => engine.engine.channels.find((c) => c.id === id)!.pacer;

/** Posts `events` results of one patient to channel `run`, CONCURRENCY at a time, each answered 201. */
async function postAll(engine: TestEngine, run: string, events: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < events) {
      const i = next++;
      const res = await engine.post(`/channels/${run}`, makeEvent(`res_${run}_${i}`, { patientId: `p-${run}` }));
      assert.equal(res.status, 201);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

test('with paceIntake a burst to a LIS slower than intake leaves a backlog of about a window; without, the backlog grows', { timeout: 120_000 }, async (t) => {
  // 10 ms per answer: at most 100 deliveries a second, far below what intake takes.
  const lis = await startRecordingReceiver({ delayMs: 10 });
  t.after(() => lis.close());
  const largest: Record<string, number> = {};
  for (const paced of [true, false]) {
    const run = paced ? 'paced' : 'unpaced';
    const engine = await engineFor(run, lis.port, paced);
    try {
      const before = lis.frames.length;
      largest[run] = await burst(engine, lis, run);
      await lis.waitFor((frames) => frames.length >= before + EVENTS, 60_000);
      const ids = lis.frames.slice(before).map((f) => f.fillerId);
      assert.equal(new Set(ids).size, EVENTS, 'every result delivered once');
      assert.equal(pacerOf(engine, run).paced > 0, paced, paced ? 'inputs waited' : 'no input waited');
    } finally {
      await engine.stop();
    }
  }
  t.diagnostic(`largest backlog at a 2xx: ${largest['paced']} paced (bound ${PACED_BOUND}), ${largest['unpaced']} unpaced`);
  assert.ok(largest['paced']! <= PACED_BOUND, `paced backlog ${largest['paced']} over ${PACED_BOUND}`);
  assert.ok(largest['unpaced']! > PACED_BOUND, `unpaced backlog ${largest['unpaced']}: the burst did not outrun the LIS, so the paced run proves nothing`);
});

test('a destination that fails never holds intake, paceIntake or not', { timeout: 60_000 }, async (t) => {
  // Nothing listens here: every attempt is refused, the lane retries.
  const closed = await startRecordingReceiver();
  const port = closed.port;
  await closed.close();
  const engine = await engineFor('down', port, true);
  t.after(() => engine.stop());
  for (let i = 0; i < 2 * PACE_ROWS; i++) {
    const res = await engine.post('/channels/down', makeEvent(`res_down_${i}`, { patientId: 'p-down' }));
    assert.equal(res.status, 201);
  }
  assert.equal(pacerOf(engine, 'down').paced, 0);
});

test('a destination slow to answer (over a second) does not hold intake either', { timeout: 60_000 }, async (t) => {
  const lis = await startRecordingReceiver({ delayMs: 3000 });
  const engine = await engineFor('slow', lis.port, true);
  t.after(async () => {
    await engine.stop();
    await lis.close();
  });
  // Every input is accepted while the LIS holds its first answer: at most a second's wait each.
  await postAll(engine, 'slow', 2 * PACE_ROWS);
  assert.ok(lis.frames.length <= 1, `${lis.frames.length} frames reached the LIS: intake waited for its answers`);
});

test('inputs waiting when the destination starts failing go at once, not after their longest wait', { timeout: 120_000 }, async (t) => {
  // 5 ms per answer: intake outruns the LIS, so inputs wait for room, each far less than a second.
  const lis = await startRecordingReceiver({ delayMs: 5 });
  // Retried for longer than the test runs: no delivery settles (as dead) once the LIS fails.
  const channel = webhookToMllpChannel('failing', lis.port, 'maxAttempts: 1000\n      initialBackoffMs: 50\n      paceIntake: true');
  const engine = await startTestEngine({ 'failing.yaml': channel }, { durability: 'normal' });
  t.after(async () => {
    await engine.stop();
    await lis.close();
  });
  const pacer = pacerOf(engine, 'failing');
  // The first frame that arrives while inputs wait, and every one after it, is dropped without an answer: the lane retries.
  let waitingAtFailure: number | undefined;
  lis.setScript(() => {
    if (waitingAtFailure === undefined && pacer.waitingNow > 0) waitingAtFailure = pacer.waitingNow;
    return waitingAtFailure === undefined ? undefined : { kind: 'close' };
  });
  await postAll(engine, 'failing', 2 * PACE_ROWS);
  t.diagnostic(`inputs waiting when the LIS failed: ${waitingAtFailure}; let go by the longest-wait timer: ${pacer.waitedOut}`);
  assert.ok(waitingAtFailure !== undefined && waitingAtFailure > 0, 'no input waited for the lanes before the LIS failed');
  assert.equal(pacer.waitedOut, 0, 'the inputs waiting at the failure were held until their longest wait');
});
