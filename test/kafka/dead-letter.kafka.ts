/**
 * Records the channel refuses (not JSON, not a platform event, a tombstone) neither block their
 * partition nor get lost: each is logged by code and offset (never its contents), copied to the
 * dead-letter topic with the error in its headers, and the good records around it are delivered.
 * Without a dead-letter topic they are logged and skipped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { createTopic, ensureBroker, uniqueTopic } from '../peers/kafka/broker.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { generateEvents } from '../support/platform-events.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { committedOffsets, endOffsets, kafkaToMllpChannel, produce, type RecordToProduce, readTopic, until } from './support.ts';

const BAD_JSON = '{"event": "result.created", "result": {"id": "res_SECRET_TEXT", ';
const NOT_AN_EVENT = JSON.stringify({ event: 'result.created', result: { status: 'final', note: 'Ms Secretname' } });

describe('Kafka source: bad records go to the dead-letter topic and do not block', () => {
  const topic = uniqueTopic('conduit-dlq-in');
  const dlq = uniqueTopic('conduit-dlq');
  const plainTopic = uniqueTopic('conduit-nodlq-in');
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;

  before(async () => {
    await ensureBroker();
    await Promise.all([createTopic(topic, 1), createTopic(dlq, 1), createTopic(plainTopic, 1)]);
    lis = await startSandboxLis();
    t = await startTestEngine({
      'with-dlq.yaml': kafkaToMllpChannel('with-dlq', { topic, mllpPort: lis.mllpPort, deadLetterTopic: dlq, groupId: `g-${topic}` }),
      'without-dlq.yaml': kafkaToMllpChannel('without-dlq', { topic: plainTopic, mllpPort: lis.mllpPort, groupId: `g-${plainTopic}` }),
    });
  });
  after(async () => {
    await t?.stop();
    await lis?.stop();
  });

  const accessions = async () => (await sandboxMessages(lis)).map((raw) => Hl7Message.parse(raw).segment('ORC')!.get(3));
  /** Resolves once the LIS has every one of these events. */
  const untilDelivered = async (events: Array<{ accession: string }>): Promise<void> => {
    let delivered: string[] = [];
    await until(
      async () => {
        delivered = await accessions();
        return events.every((e) => delivered.includes(e.accession));
      },
      () => `delivered: ${delivered.join(',')}`,
    );
  };

  test('good records around bad ones are delivered in order; the bad ones land in the dead-letter topic', async () => {
    const good = generateEvents({ events: 4, patients: 1, runId: 'dl' });
    const records: RecordToProduce[] = [
      { key: good[0]!.patientId, value: good[0]!.body },
      { key: 'k1', value: BAD_JSON, headers: { 'x-trace': 'abc' } },
      { key: good[1]!.patientId, value: good[1]!.body },
      { key: 'k2', value: null },
      { key: good[2]!.patientId, value: good[2]!.body },
      { key: 'k3', value: NOT_AN_EVENT },
      { key: good[3]!.patientId, value: good[3]!.body },
    ];
    await produce(topic, records);

    await untilDelivered(good);
    assert.deepEqual(await accessions(), good.map((e) => e.accession), 'the good records, in order, once each');

    // Records of different keys are taken concurrently: the dead-letter topic keeps order per key only.
    const dead = (await readTopic(dlq, 3)).sort((a, b) => (a.headers['conduit-source'] ?? '').localeCompare(b.headers['conduit-source'] ?? ''));
    assert.deepEqual(dead.map((r) => r.key), ['k1', 'k2', 'k3']);
    assert.deepEqual(dead.map((r) => r.value), [BAD_JSON, null, NOT_AN_EVENT], 'the record as it came');
    assert.deepEqual(dead.map((r) => r.headers['conduit-error-code']), ['INPUT_INVALID_JSON', 'INPUT_INVALID', 'INPUT_INVALID']);
    assert.deepEqual(dead.map((r) => r.headers['conduit-source']), [`${topic}:0:1`, `${topic}:0:3`, `${topic}:0:5`]);
    assert.equal(dead[0]!.headers['x-trace'], 'abc', 'the original headers are kept');
    assert.equal(dead[0]!.headers['conduit-channel'], 'with-dlq');
    assert.match(dead[2]!.headers['conduit-error'] ?? '', /result\.id/);

    const end = (await endOffsets(topic)).get(0);
    await until(async () => (await committedOffsets(`g-${topic}`, topic)).get(0) === end, () => 'offsets committed past the bad records', 10_000, 200);

    const refusals = t.logs.filter((l) => l.includes('record refused by the channel')).map((l) => JSON.parse(l) as Record<string, unknown>);
    refusals.sort((a, b) => Number(a.offset) - Number(b.offset));
    assert.deepEqual(refusals.map((r) => [r.code, r.offset]), [['INPUT_INVALID_JSON', '1'], ['INPUT_INVALID', '3'], ['INPUT_INVALID', '5']]);
    const logs = t.logs.join('\n');
    assert.ok(!logs.includes('SECRET_TEXT') && !logs.includes('Secretname'), 'no record contents in the logs');
  });

  test('without a dead-letter topic, bad records are logged and skipped', async () => {
    const good = generateEvents({ events: 2, patients: 1, runId: 'nd' });
    await produce(plainTopic, [
      { key: 'x', value: 'not json at all' },
      { key: good[0]!.patientId, value: good[0]!.body },
      { key: 'y', value: '[]' },
      { key: good[1]!.patientId, value: good[1]!.body },
    ]);
    await untilDelivered(good);
    const end = (await endOffsets(plainTopic)).get(0);
    await until(async () => (await committedOffsets(`g-${plainTopic}`, plainTopic)).get(0) === end, () => 'offsets committed past the bad records', 10_000, 200);
    const skipped = t.logs.filter((l) => l.includes('record refused by the channel; skipped'));
    assert.equal(skipped.length, 2);
  });
});
