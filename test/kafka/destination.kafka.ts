/**
 * Kafka destination against the real broker: webhook events → FHIR Bundles → records keyed by
 * the message's partition key (the patient), read back by a kafkajs consumer: one record per
 * message, each patient's records in one partition in the order the webhooks were answered, with
 * content type, message id and control id in the headers. A record larger than the topic
 * accepts is rejected; an unknown topic and unreachable brokers are retried.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { KafkaSender } from '../../src/senders/kafka/index.ts';
import { kafkaDestinationConfig } from '../../src/senders/kafka/config.ts';
import type { OutboundMessage } from '../../src/senders/types.ts';
import { BOOTSTRAP, createTopic, ensureBroker, uniqueTopic } from '../peers/kafka/broker.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { generateEvents } from '../support/platform-events.ts';
import { readTopic } from './support.ts';

function webhookToKafka(id: string, topic: string): string {
  return `id: ${id}
source:
  type: webhook
mapping: platform-result
destinations:
  - id: events
    mapping: fhir-r4-ehr
    sender:
      type: kafka
      brokers: [${BOOTSTRAP}]
      topic: ${topic}
      clientId: conduit-test
      compression: gzip
      headers:
        x-producer: conduit-test
    delivery:
      maxAttempts: 3
      initialBackoffMs: 50
      maxBackoffMs: 200
`;
}

describe('Kafka destination: keyed records, in order per patient', () => {
  const topic = uniqueTopic('conduit-out');
  const smallTopic = uniqueTopic('conduit-out-small');
  let t: TestEngine;

  before(async () => {
    await ensureBroker();
    await createTopic(topic, 3);
    await createTopic(smallTopic, 1, { 'max.message.bytes': '512' });
    t = await startTestEngine({ 'to-kafka.yaml': webhookToKafka('to-kafka', topic), 'too-large.yaml': webhookToKafka('too-large', smallTopic) });
  });
  after(async () => {
    await t?.stop();
  });

  test('one record per message, keyed by patient, in order per key, with headers', async () => {
    const events = generateEvents({ events: 48, patients: 6, runId: 'kd' });
    const acked = new Map<string, string>(); // result id → message id
    // One patient's events one after another, patients concurrently.
    const patients = [...new Set(events.map((e) => e.patientId))];
    await Promise.all(
      patients.map(async (p) => {
        for (const e of events.filter((x) => x.patientId === p)) {
          const res = await t.post('/channels/to-kafka', e.body);
          assert.equal(res.status, 201);
          acked.set(e.resultId, ((await res.json()) as { messageId: string }).messageId);
        }
      }),
    );
    const records = await readTopic(topic, events.length);
    await t.drained();
    assert.equal(records.length, events.length);

    const resultOf = (value: string | null) => events.find((e) => value?.includes(`"${e.resultId}"`))!;
    const partitionOf = new Map<string, number>();
    for (const r of records) {
      const e = resultOf(r.value);
      assert.ok(e, 'the record value is the Bundle of one event');
      assert.equal(r.key, `patient:${e.patientId}`);
      assert.equal(partitionOf.get(r.key) ?? r.partition, r.partition, 'one partition per key');
      partitionOf.set(r.key, r.partition);
      assert.equal(r.headers['content-type'], 'application/fhir+json');
      assert.equal(r.headers['conduit-message-id'], acked.get(e.resultId));
      assert.ok(r.headers['conduit-control-id'], 'control id header');
      assert.equal(r.headers['conduit-attempt'], '1');
      assert.equal(r.headers['x-producer'], 'conduit-test');
      assert.equal((JSON.parse(r.value!) as { resourceType: string }).resourceType, 'Bundle');
    }
    assert.ok(new Set(partitionOf.values()).size > 1, 'keys spread over partitions');
    for (const p of patients) {
      const read = records.filter((r) => r.key === `patient:${p}`).sort((a, b) => Number(a.offset) - Number(b.offset));
      assert.deepEqual(
        read.map((r) => resultOf(r.value).resultId),
        events.filter((e) => e.patientId === p).map((e) => e.resultId),
        `${p}: records in the order the webhooks were answered`,
      );
    }

    const view = (await (await t.admin(`/api/messages/${acked.get(events[0]!.resultId)}`)).json()) as {
      deliveries: Array<{ status: string; controlId: string; attempts: Array<{ outcome: string; response?: string }> }>;
    };
    assert.equal(view.deliveries[0]!.status, 'acknowledged');
    assert.match(view.deliveries[0]!.attempts[0]!.response ?? '', /"partition":\d+,"offset":"\d+"/);
  });

  test('a record larger than the topic accepts is rejected with KAFKA_RECORD_TOO_LARGE', async () => {
    const [event] = generateEvents({ events: 1, patients: 1, runId: 'kl' });
    const res = await t.post('/channels/too-large', event!.body);
    assert.equal(res.status, 201);
    const { messageId } = (await res.json()) as { messageId: string };
    await t.drained();
    const view = (await (await t.admin(`/api/messages/${messageId}`)).json()) as {
      deliveries: Array<{ status: string; attempts: Array<{ outcome: string; code?: string }> }>;
    };
    assert.equal(view.deliveries[0]!.status, 'rejected');
    assert.equal(view.deliveries[0]!.attempts.length, 1, 'not retried');
    assert.equal(view.deliveries[0]!.attempts[0]!.code, 'KAFKA_RECORD_TOO_LARGE');
  });
});

describe('Kafka sender outcomes without a working topic', () => {
  const log = pino({ level: 'silent' });
  const message: OutboundMessage = {
    messageId: 'm1',
    destinationId: 'd',
    payload: '{}',
    contentType: 'application/json',
    controlId: 'c1',
    attempt: 1,
    partitionKey: 'patient:p1',
  };

  test('unreachable brokers: retryable KAFKA_CONNECT_FAILED', async () => {
    const sender = new KafkaSender(kafkaDestinationConfig.parse({ brokers: ['127.0.0.1:1'], topic: 'x', connectionTimeoutMs: 500 }), { log });
    const outcome = await sender.send(message, new AbortController().signal);
    await sender.close();
    assert.equal(outcome.status, 'retryable');
    assert.equal(outcome.status === 'retryable' && outcome.code, 'KAFKA_CONNECT_FAILED');
  });

  test('a topic that does not exist: retryable KAFKA_TOPIC_UNKNOWN (the sender creates no topics)', async () => {
    await ensureBroker();
    const sender = new KafkaSender(kafkaDestinationConfig.parse({ brokers: [BOOTSTRAP], topic: uniqueTopic('conduit-missing') }), { log });
    const outcome = await sender.send(message, new AbortController().signal);
    await sender.close();
    assert.equal(outcome.status, 'retryable', JSON.stringify(outcome));
    assert.equal(outcome.status === 'retryable' && outcome.code, 'KAFKA_TOPIC_UNKNOWN');
  });

  test('abort while waiting: retryable KAFKA_ABORTED', async () => {
    const sender = new KafkaSender(kafkaDestinationConfig.parse({ brokers: ['127.0.0.1:1'], topic: 'x', connectionTimeoutMs: 5_000 }), { log });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const outcome = await sender.send(message, ac.signal);
    await sender.close();
    assert.equal(outcome.status === 'retryable' && outcome.code, 'KAFKA_ABORTED');
  });
});
