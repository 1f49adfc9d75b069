/**
 * Kafka source → store → ORU^R01 → MLLP, end to end against the real broker and the sandbox LIS
 * (our MLLP listener in a second in-process engine): every event of a 3-partition topic keyed by
 * patient reaches the LIS once, each patient's results in the order they were produced, and the
 * group's committed offsets reach the end of every partition once everything is stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { createTopic, ensureBroker, uniqueTopic } from '../peers/kafka/broker.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { generateEvents } from '../support/platform-events.ts';
import { hl7v2Sample, hl7v2SampleNames } from '../support/repo.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { committedOffsets, endOffsets, eventRecords, kafkaToMllpChannel, produce, until } from './support.ts';

describe('Kafka source: platform events from a topic to the sandbox LIS', () => {
  const topic = uniqueTopic('conduit-source');
  const groupId = `conduit-test.${topic}`;
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  const hl7Topic = uniqueTopic('conduit-source-hl7');
  let t: TestEngine;

  before(async () => {
    await ensureBroker();
    await Promise.all([createTopic(topic, 3), createTopic(hl7Topic, 1)]);
    lis = await startSandboxLis();
    // The same channel for HL7 v2 records: format hl7v2, the hl7v2-oru inbound mapping.
    const hl7Channel = kafkaToMllpChannel('kafka-hl7', { topic: hl7Topic, mllpPort: lis.mllpPort })
      .replace('format: json', 'format: hl7v2')
      .replace('mapping: platform-result', 'mapping: hl7v2-oru');
    t = await startTestEngine({
      'kafka-in.yaml': kafkaToMllpChannel('kafka-in', { topic, groupId, mllpPort: lis.mllpPort }),
      'kafka-hl7.yaml': hl7Channel,
    });
  });
  after(async () => {
    await t?.stop();
    await lis?.stop();
  });

  test('every event is delivered once, in order per patient; offsets are committed to the end', async () => {
    const events = generateEvents({ events: 90, patients: 7, runId: 'ks' });
    await produce(topic, eventRecords(events), 20);

    let atLis = 0;
    await until(
      async () => {
        atLis = (await sandboxMessages(lis)).length;
        return atLis >= events.length;
      },
      () => `${atLis} of ${events.length} at the LIS`,
    );
    await t.drained();
    const received = (await sandboxMessages(lis)).map((raw) => {
      const m = Hl7Message.parse(raw);
      return { accession: m.segment('ORC')!.get(3), patient: m.segment('PID')!.get(3), controlId: m.controlId };
    });
    assert.equal(received.length, events.length, 'one ORU^R01 per event, no duplicates');
    assert.deepEqual(new Set(received.map((r) => r.accession)), new Set(events.map((e) => e.accession)));

    for (const patient of new Set(events.map((e) => e.patientId))) {
      const produced = events.filter((e) => e.patientId === patient).map((e) => e.accession);
      const delivered = received.filter((r) => r.patient === patient).map((r) => r.accession);
      assert.deepEqual(delivered, produced, `${patient}: delivered in the order produced`);
    }

    const stored = (await t.engine.store.listMessages({ channelId: 'kafka-in', limit: 1000 })).messages;
    assert.equal(stored.length, events.length, 'one stored message per event');

    const ends = await endOffsets(topic);
    await until(
      async () => {
        const committed = await committedOffsets(groupId, topic);
        return [...ends].every(([p, end]) => committed.get(p) === end);
      },
      () => `committed offsets short of ${JSON.stringify([...ends])}`,
      10_000,
      200,
    );

    const logs = t.logs.join('\n');
    for (const e of events.slice(0, 10)) {
      const body = JSON.parse(e.body) as { result: { patient: { family: string; external_id: string } } };
      assert.ok(!logs.includes(body.result.patient.external_id), 'no MRN in the logs');
    }
    assert.ok(/Kafka consumer joined its group/.test(logs));
  });

  test('HL7 v2 records (format: hl7v2) are mapped and delivered like MLLP input', async () => {
    const names = hl7v2SampleNames().slice(0, 4);
    const before = (await sandboxMessages(lis)).length;
    await produce(hl7Topic, names.map((n) => ({ key: n, value: hl7v2Sample(n) })));
    await until(async () => (await t.engine.store.listMessages({ channelId: 'kafka-hl7', limit: 100 })).messages.length >= names.length, () => 'HL7 v2 records not stored');
    await t.drained();
    const stored = (await t.engine.store.listMessages({ channelId: 'kafka-hl7', limit: 100 })).messages;
    const views = await Promise.all(stored.map((m) => t.engine.store.getMessage(m.id)));
    assert.ok(views.every((v) => v!.inputFormat === 'hl7v2'));
    assert.ok((await sandboxMessages(lis)).length >= before + names.length, 'one ORU^R01 or more per HL7 v2 record at the LIS');
  });
});
