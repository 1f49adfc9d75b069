/**
 * Issue 9: a burst of intake cannot hold back a delivery. Counted, never timed: while hundreds of
 * webhook requests are being taken, from the commit of a delivery (ready for its lane) to its
 * arrival at the LIS, the turns of the event loop in which intake ran (the engine maps one intake
 * per turn, src/engine/turns.ts) and the round trips to the store's writer thread.
 *
 * A free-running setImmediate counter would count the idle turns of a loop waiting for a
 * commit, that is time; these counters only move when there is work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { laneOf } from '../../src/engine/lanes.ts';
import type { SqliteStore } from '../../src/store/sqlite/store.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';

const BURST = 300;
/** Results of other patients among the burst: one every 40 requests. */
const OTHERS = 7;
/**
 * The round that commits the delivery's 'sent' mark, one in flight before it, and the rounds
 * other work brings while the frame crosses the loopback socket to the LIS (1–3 seen on a quiet
 * machine; the bound leaves room for a loaded one, and is still far below the burst's hundreds).
 */
const MAX_ROUNDS = 8;
/** Intake turns while those rounds commit (durability normal: no fsync in them). */
const MAX_TURNS = 40;

/** A patient id whose results go to `lane` of 2. */
function patientOnLane(lane: number, prefix: string, skip = 0): string {
  let found = 0;
  for (let i = 0; ; i++) {
    const id = `${prefix}-${i}`;
    if (laneOf(`patient:${id}`, 2) === lane && found++ === skip) return id;
  }
}

test('a delivery ready on its lane reaches the LIS within a bounded number of loop turns and store round trips while a burst of intake is taken', async (t) => {
  const lis = await startRecordingReceiver();
  const engine = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.port, 'lanes: 2\n      maxAttempts: 3') }, { durability: 'normal' });
  t.after(async () => {
    await engine.stop();
    await lis.close();
  });
  const store = engine.engine.store as SqliteStore;
  const count = () => ({ turns: engine.engine.turns.turns, rounds: store.rounds });

  // Counters when each delivery was committed and when the LIS got it, by control id (MSH-10).
  const readyAt = new Map<string, { turns: number; rounds: number }>();
  const arrivedAt = new Map<string, { turns: number; rounds: number }>();
  /** Order of first arrival at the LIS, by control id. */
  const arrivalOrder = new Map<string, number>();
  store.onCommitted((rows) => {
    for (const r of rows) readyAt.set(r.controlId, count());
  });
  // Asked for every frame as it arrives (the answer stays the default AA).
  lis.setScript((_n, frame) => {
    if (frame.controlId && !arrivedAt.has(frame.controlId)) {
      arrivedAt.set(frame.controlId, count());
      arrivalOrder.set(frame.controlId, arrivalOrder.size);
    }
    return undefined;
  });
  const arrivals = lis.waitFor((frames) => frames.length >= BURST + OTHERS, 120_000);

  // The burst: lane 0, one patient, so its deliveries queue behind one another. Among it, every
  // 40 requests, a result of another patient on lane 1: each is ready while the burst is taken.
  const burstPatient = patientOnLane(0, 'burst');
  const burst: Array<Promise<Response>> = [];
  const others: Array<Promise<Response>> = [];
  for (let i = 0; i < BURST; i++) {
    burst.push(engine.post('/channels/to-lis', makeEvent(`res_burst_${i}`, { patientId: burstPatient })));
    if (i % 40 === 20 && others.length < OTHERS) others.push(engine.post('/channels/to-lis', makeEvent(`res_other_${i}`, { patientId: patientOnLane(1, 'other', others.length) })));
  }
  const answers = await Promise.all([...burst, ...others]);
  for (const a of answers) assert.equal(a.status, 201);
  const otherIds = await Promise.all(answers.slice(BURST).map(async (a) => ((await a.json()) as { messageId: string }).messageId));
  await arrivals;

  const waits: Array<{ turns: number; rounds: number }> = [];
  const watched = new Set<string>();
  for (const id of otherIds) {
    const view = (await (await engine.admin(`/api/messages/${id}`)).json()) as { deliveries: Array<{ controlId: string }> };
    const controlId = view.deliveries[0]!.controlId;
    watched.add(controlId);
    const ready = readyAt.get(controlId);
    const arrived = arrivedAt.get(controlId);
    assert.ok(ready && arrived, `${id}: committed and received`);
    waits.push({ turns: arrived.turns - ready.turns, rounds: arrived.rounds - ready.rounds });
  }
  const burstDone = Math.max(...[...arrivedAt.entries()].filter(([c]) => !watched.has(c)).map(([, at]) => at.turns));
  const lastOfBurst = Math.max(...[...arrivalOrder.entries()].filter(([c]) => !watched.has(c)).map(([, n]) => n));
  t.diagnostic(
    `ready → received on the idle lane: ${waits.map((w) => `${w.turns} turns/${w.rounds} rounds`).join(', ')}; the burst's last delivery arrived after ${burstDone} intake turns`,
  );
  for (const w of waits) {
    assert.ok(w.rounds <= MAX_ROUNDS, `a delivery waited ${w.rounds} store round trips (at most ${MAX_ROUNDS})`);
    assert.ok(w.turns <= MAX_TURNS, `a delivery waited ${w.turns} intake turns behind the burst (at most ${MAX_TURNS})`);
  }
  // The idle lane did not wait for the burst to be delivered: each arrived before the burst's last
  // delivery (in arrival order; the turn counter stops once intake is over, so it cannot tell).
  for (const id of watched) assert.ok(arrivalOrder.get(id)! < lastOfBurst, 'delivered before the burst was');
});
