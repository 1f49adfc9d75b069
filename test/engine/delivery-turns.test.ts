/**
 * Issue 9: a burst of intake cannot hold back a delivery. Counted, never timed: from the commit
 * of a delivery (ready for its lane) to its arrival at the LIS, while hundreds of webhook
 * requests are being taken, the turns of the event loop (a setImmediate counter) and the other
 * intakes committed meanwhile (the engine maps one intake per turn, see src/engine/turns.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { laneOf } from '../../src/engine/lanes.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';

const BURST = 300;
/** Results of other patients among the burst: one every 40 requests. */
const OTHERS = 7;
/** Commit → mark committed by the writer thread → send → arrival, plus slack for rounds in flight. */
const MAX_TURNS = 12;
/** At most one intake is mapped per turn; rounds of the writer commit several at once. */
const MAX_INTAKES = 24;

/** A patient id whose results go to `lane` of 2. */
function patientOnLane(lane: number, prefix: string, skip = 0): string {
  let found = 0;
  for (let i = 0; ; i++) {
    const id = `${prefix}-${i}`;
    if (laneOf(`patient:${id}`, 2) === lane && found++ === skip) return id;
  }
}

test('a delivery ready on its lane reaches the LIS within a bounded number of loop turns while a burst of intake is taken', async (t) => {
  const lis = await startRecordingReceiver();
  const engine = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.port, 'lanes: 2\n      maxAttempts: 3') });
  let turns = 0;
  let counting = true;
  t.after(async () => {
    counting = false;
    await engine.stop();
    await lis.close();
  });

  const tick = () => {
    turns++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);

  // Turn at which each delivery was committed, and at which the LIS got it, by control id (MSH-10).
  const readyAt = new Map<string, number>();
  const arrivedAt = new Map<string, number>();
  // The same, counted in intakes committed so far.
  let committed = 0;
  const readyAfter = new Map<string, number>();
  const arrivedAfter = new Map<string, number>();
  engine.engine.store.onCommitted((rows) => {
    committed += rows.length;
    for (const r of rows) {
      readyAt.set(r.controlId, turns);
      readyAfter.set(r.controlId, committed);
    }
  });
  const watched = new Set<string>();
  // Asked for every frame as it arrives: the turn it arrived in (the answer is the default AA).
  lis.setScript((_n, frame) => {
    if (frame.controlId && !arrivedAt.has(frame.controlId)) {
      arrivedAt.set(frame.controlId, turns);
      arrivedAfter.set(frame.controlId, committed);
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
  counting = false;

  const waits: number[] = [];
  const intakes: number[] = [];
  for (const id of otherIds) {
    const view = (await (await engine.admin(`/api/messages/${id}`)).json()) as { deliveries: Array<{ controlId: string }> };
    const controlId = view.deliveries[0]!.controlId;
    watched.add(controlId);
    const ready = readyAt.get(controlId);
    const arrived = arrivedAt.get(controlId);
    assert.ok(ready !== undefined && arrived !== undefined, `${id}: committed and received`);
    waits.push(arrived - ready);
    intakes.push(arrivedAfter.get(controlId)! - readyAfter.get(controlId)!);
  }
  const burstDone = Math.max(...[...arrivedAt.entries()].filter(([c]) => !watched.has(c)).map(([, turn]) => turn));
  t.diagnostic(`from ready to received on the idle lane: ${waits.join(', ')} turns, ${intakes.join(', ')} intakes committed; the burst's last delivery arrived at turn ${burstDone}`);
  for (const w of waits) assert.ok(w <= MAX_TURNS, `a delivery waited ${w} loop turns behind the intake burst (at most ${MAX_TURNS})`);
  for (const n of intakes) assert.ok(n <= MAX_INTAKES, `a delivery waited while ${n} other intakes were committed (at most ${MAX_INTAKES})`);
  // The idle lane did not wait for the burst to be delivered.
  for (const id of watched) assert.ok(arrivedAt.get(id)! < burstDone, 'delivered before the burst was');
});
