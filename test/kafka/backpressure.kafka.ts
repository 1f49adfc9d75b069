/**
 * Backpressure: with a backlog bound far below the topic's size and a slow LIS, the source
 * pauses its partitions instead of taking more (invariant 7), resumes when the backlog drains,
 * and in the end every event is stored once and delivered, in order per patient.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTopic, ensureBroker, uniqueTopic } from '../peers/kafka/broker.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { generateEvents } from '../support/platform-events.ts';
import { type RecordingReceiver, startRecordingReceiver } from '../support/recording-receiver.ts';
import { eventRecords, kafkaToMllpChannel, produce, until } from './support.ts';

const EVENTS = 300;
const MAX_BACKLOG = 20;

describe('Kafka source: backpressure pauses the partitions, nothing is lost', () => {
  const topic = uniqueTopic('conduit-bp');
  let receiver: RecordingReceiver;
  let t: TestEngine;
  let maxPending = 0;
  let sampler: NodeJS.Timeout | undefined;

  before(async () => {
    await ensureBroker();
    await createTopic(topic, 2);
    receiver = await startRecordingReceiver({ delayMs: 3 });
    t = await startTestEngine({ 'bp.yaml': kafkaToMllpChannel('bp', { topic, mllpPort: receiver.port }) }, { maxBacklog: MAX_BACKLOG, logLevel: 'debug' });
    sampler = setInterval(() => {
      maxPending = Math.max(maxPending, t.engine.store.pendingCount());
    }, 2);
  });
  after(async () => {
    clearInterval(sampler);
    await t?.stop();
    await receiver?.close();
  });

  test(`${EVENTS} events through a backlog bound of ${MAX_BACKLOG}`, async () => {
    const events = generateEvents({ events: EVENTS, patients: 12, runId: 'bp' });
    await produce(topic, eventRecords(events));
    await until(() => receiver.byFiller().size >= EVENTS, () => `${receiver.byFiller().size} of ${EVENTS} delivered`, 60_000);
    await t.drained();

    const byFiller = receiver.byFiller();
    assert.deepEqual(new Set(byFiller.keys()), new Set(events.map((e) => e.accession)));
    assert.equal((await t.engine.store.listMessages({ channelId: 'bp', limit: 10_000 })).messages.length, EVENTS, 'each event stored once');
    for (const patient of new Set(events.map((e) => e.patientId))) {
      const firsts = events.filter((e) => e.patientId === patient).map((e) => byFiller.get(e.accession)![0]!.n);
      assert.deepEqual(firsts, [...firsts].sort((a, b) => a - b), `${patient}: first deliveries in produced order`);
    }
    const paused = t.logs.filter((l) => l.includes('backlog over its bound; partition paused')).length;
    assert.ok(paused > 0, 'the source paused at least once');
    // The bound is checked before each run of up to maxBatch records: the backlog may pass it by one run at most.
    assert.ok(maxPending <= MAX_BACKLOG + 100, `backlog peaked at ${maxPending}`);
    console.log(`backpressure: ${paused} pauses, backlog peak ${maxPending} (bound ${MAX_BACKLOG}), ${receiver.frames.length} frames for ${EVENTS} events`);
  });
});
