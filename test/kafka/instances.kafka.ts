/**
 * A Kafka source on two instances sharing one PostgreSQL store (issue: high availability): both
 * join the channel's one consumer group and split the topic's partitions; every record is
 * stored once and delivered (a record read again after a rebalance is a duplicate by its result
 * id and version, with the MSH-10 of its first delivery).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { createTopic, ensureBroker, uniqueTopic } from '../peers/kafka/broker.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { generateEvents } from '../support/platform-events.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { eventRecords, kafkaToMllpChannel, produce, until } from './support.ts';

const skip = await postgresUnavailable();

describe('Kafka source on two instances of one PostgreSQL store', { skip }, () => {
  const topic = uniqueTopic('conduit-instances');
  const cleanup: Array<() => Promise<void>> = [];
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let a: TestEngine;
  let b: TestEngine;

  before(async () => {
    await ensureBroker();
    await createTopic(topic, 4);
    lis = await startSandboxLis();
    const url = await tempDatabase({ after: async (fn) => void cleanup.push(fn) });
    const channels = { 'kafka-in.yaml': kafkaToMllpChannel('kafka-in', { topic, mllpPort: lis.mllpPort }) };
    a = await startTestEngine(channels, { store: url });
    b = await startTestEngine(channels, { store: url });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await lis?.stop();
    for (const c of cleanup) await c();
  });

  /** The partitions the group's last assignment gave an instance. */
  const assigned = (t: TestEngine): number[] =>
    t.logs
      .map((l) => JSON.parse(l) as { msg?: string; partitions?: number[] })
      .filter((l) => l.msg === 'Kafka consumer joined its group')
      .at(-1)?.partitions ?? [];

  test('both instances take partitions of the one group; every record is stored once and delivered', async () => {
    // The group rebalances once the second instance joins: each gets partitions of its own. The
    // first instance logs its new share after the second logs its own: until then it still shows all four.
    const split = () => assigned(a).length > 0 && assigned(b).length > 0 && [...assigned(a), ...assigned(b)].sort().join() === '0,1,2,3';
    await until(
      split,
      () => `partitions: A ${JSON.stringify(assigned(a))}, B ${JSON.stringify(assigned(b))}`,
    );
    assert.deepEqual([...assigned(a), ...assigned(b)].sort(), [0, 1, 2, 3]);
    const events = generateEvents({ events: 120, patients: 12, runId: 'ki' });
    await produce(topic, eventRecords(events), 20);
    let stored = 0;
    await until(
      async () => {
        stored = (await a.engine.store.listMessages({ channelId: 'kafka-in', limit: 1000 })).messages.length;
        return stored >= events.length;
      },
      () => `${stored} of ${events.length} stored`,
    );
    let atLis = 0;
    await until(
      async () => {
        atLis = new Set((await sandboxMessages(lis)).map((raw) => Hl7Message.parse(raw).segment('ORC')!.get(3))).size;
        return atLis >= events.length;
      },
      () => `${atLis} of ${events.length} at the LIS`,
    );
    assert.equal((await a.engine.store.listMessages({ channelId: 'kafka-in', limit: 1000 })).messages.length, events.length, 'each record stored once');
    const frames = (await sandboxMessages(lis)).map((raw) => Hl7Message.parse(raw));
    const controlIds = new Map<string, Set<string>>();
    for (const m of frames) {
      const accession = m.segment('ORC')!.get(3)!;
      controlIds.set(accession, (controlIds.get(accession) ?? new Set()).add(m.controlId!));
    }
    assert.deepEqual([...controlIds.values()].filter((ids) => ids.size > 1), [], 'a repeat carries the MSH-10 of the first delivery');
  });
});
