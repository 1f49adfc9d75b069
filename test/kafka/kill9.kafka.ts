/**
 * Issue 5, part 1: 10,000 platform events on a Kafka topic, the engine (a child process running
 * channels/kafka-to-lis.yaml pointed at a recording MLLP receiver) killed with kill -9 once about
 * half are stored, then restarted on the same data directory:
 *
 * - every event is delivered at least once (by ORC-3, the result's accession), none is lost;
 * - each event is stored once (the re-read records after the restart are recognised at intake);
 * - a duplicate delivery carries the MSH-10 of the first one;
 * - per patient (the record key), first deliveries follow the order of the topic;
 * - the group's committed offsets end at the end of every partition.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { BOOTSTRAP, createTopic, ensureBroker, uniqueTopic } from '../peers/kafka/broker.ts';
import { createWorkspace, type EngineProcess, REPO, startEngine } from '../support/engine-process.ts';
import { generateEvents } from '../support/platform-events.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';
import { committedOffsets, endOffsets, eventRecords, produce, until } from './support.ts';

const CHANNEL = 'kafka-to-lis';
const EVENTS = 10_000;
const PATIENTS = 200;
const PARTITIONS = 4;
const KILL_AT_STORED = 5_000;

/** The repository's sample channel, enabled, on a fresh topic and group, delivering to `mllpPort`. */
function sampleKafkaChannel(topic: string, groupId: string, mllpPort: number): string {
  const channel = parse(readFileSync(join(REPO, 'channels', `${CHANNEL}.yaml`), 'utf8')) as {
    enabled: boolean;
    source: Record<string, unknown>;
    destinations: Array<{ sender: Record<string, unknown>; delivery: Record<string, unknown> }>;
  };
  channel.enabled = true;
  Object.assign(channel.source, {
    brokers: [BOOTSTRAP],
    topic,
    groupId,
    deadLetterTopic: `${topic}.refused`,
    // The killed member holds its partitions until its session times out: keep the restart short.
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 1_000,
    retryPauseMs: 200,
  });
  Object.assign(channel.destinations[0]!.sender, { host: '127.0.0.1', port: mllpPort });
  Object.assign(channel.destinations[0]!.delivery, { maxAttempts: 50, initialBackoffMs: 50, maxBackoffMs: 500 });
  return stringify(channel);
}

async function channelCounts(engine: EngineProcess): Promise<{ messages: number; pending: number }> {
  const res = await engine.admin('/api/channels');
  const body = (await res.json()) as { channels: Array<{ id: string; messages: number; deliveries: Record<string, number> }> };
  const c = body.channels.find((x) => x.id === CHANNEL)!;
  return { messages: c.messages, pending: (c.deliveries.queued ?? 0) + (c.deliveries.sent ?? 0) + (c.deliveries.errored ?? 0) };
}

test('issue 5: 10,000 Kafka events, kill -9 half-way, restart: every event delivered, none lost', { timeout: 180_000 }, async (t) => {
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  await ensureBroker();
  const topic = uniqueTopic('conduit-kill9');
  const groupId = `conduit-test.${topic}`;
  await createTopic(topic, PARTITIONS);
  await createTopic(`${topic}.refused`, 1);

  const events = generateEvents({ events: EVENTS, patients: PATIENTS, runId: 'kk' });
  await produce(topic, eventRecords(events));
  const producedAt = since();

  const receiver = await startRecordingReceiver();
  const workspace = createWorkspace({ [`${CHANNEL}.yaml`]: sampleKafkaChannel(topic, groupId, receiver.port) });
  const engines: EngineProcess[] = [];
  t.after(async () => {
    for (const e of engines) await e.kill('SIGKILL');
    await receiver.close();
    workspace.remove();
  });

  // 1. First engine: consume until about half the events are stored, then kill -9.
  engines.push(await startEngine({ workspace }));
  const first = engines[0]!;
  let stored = 0;
  await until(
    async () => {
      stored = (await channelCounts(first)).messages;
      return stored >= KILL_AT_STORED;
    },
    () => `${stored} stored`,
    60_000,
    100,
  );
  await first.kill('SIGKILL');
  const killedAt = since();
  const framesAtKill = receiver.frames.length;
  const deliveredAtKill = receiver.byFiller().size;
  const db = new DatabaseSync(join(workspace.dataDir, 'conduit.db'), { readOnly: true });
  const storedAtKill = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
  db.close();
  const committedAtKill = [...(await committedOffsets(groupId, topic)).values()].reduce((a, b) => a + Math.max(b, 0), 0);
  assert.ok(storedAtKill < EVENTS, `the kill came before the end (${storedAtKill} stored)`);

  // 2. Second engine on the same data directory: it rejoins the group and reads on from the last commit.
  engines.push(await startEngine({ workspace }));
  const second = engines[1]!;
  const restartedAt = since();
  let counts = { messages: 0, pending: -1 };
  let allStoredAt: number | undefined;
  await until(
    async () => {
      counts = await channelCounts(second);
      if (allStoredAt === undefined && counts.messages >= EVENTS) allStoredAt = since();
      return counts.pending === 0 && counts.messages >= EVENTS;
    },
    () => `${counts.messages} stored, ${counts.pending} pending, ${receiver.byFiller().size} delivered`,
    120_000,
    250,
  );
  const drainedAt = since();

  // Every event delivered at least once; nothing unknown.
  const byFiller = receiver.byFiller();
  const missing = events.filter((e) => !byFiller.has(e.accession));
  assert.deepEqual(missing.slice(0, 20).map((e) => e.resultId), [], `${missing.length} events never delivered`);
  const accessions = new Set(events.map((e) => e.accession));
  assert.deepEqual([...byFiller.keys()].filter((k) => !accessions.has(k)), [], 'frames for events never produced');
  assert.ok(receiver.frames.every((f) => f.messageType === 'ORU^R01'));

  // Each event stored once, although the restarted engine re-read what was stored but not committed.
  assert.equal(counts.messages, EVENTS, 'one stored message per event');

  // Duplicates carry the MSH-10 of the first delivery; every message has its own MSH-10.
  let duplicates = 0;
  let duplicatedEvents = 0;
  for (const [accession, frames] of byFiller) {
    if (frames.length > 1) duplicatedEvents++;
    duplicates += frames.length - 1;
    for (const f of frames) assert.equal(f.controlId, frames[0]!.controlId, `${accession}: resend with another MSH-10`);
  }
  assert.equal(new Set([...byFiller.values()].map((f) => f[0]!.controlId)).size, EVENTS, 'one MSH-10 per event');

  // Per patient (one key, one partition), first deliveries in topic order.
  const byPatient = new Map<string, number[]>();
  for (const e of events) {
    const n = byFiller.get(e.accession)![0]!.n;
    const list = byPatient.get(e.patientId);
    if (list) list.push(n);
    else byPatient.set(e.patientId, [n]);
  }
  for (const [patient, firsts] of byPatient) {
    for (let i = 1; i < firsts.length; i++) assert.ok(firsts[i - 1]! < firsts[i]!, `${patient}: event #${i + 1} first delivered before #${i}`);
  }

  // The group's offsets are committed to the end.
  const ends = await endOffsets(topic);
  await until(
    async () => {
      const committed = await committedOffsets(groupId, topic);
      return [...ends].every(([p, end]) => committed.get(p) === end);
    },
    () => 'committed offsets short of the end',
    15_000,
    200,
  );

  const summary = {
    events: EVENTS,
    partitions: PARTITIONS,
    patients: PATIENTS,
    storedAtKill,
    committedAtKill,
    reReadAfterRestart: storedAtKill - committedAtKill,
    framesAtKill,
    deliveredAtKill,
    framesReceived: receiver.frames.length,
    delivered: byFiller.size,
    lost: missing.length,
    duplicateFrames: duplicates,
    duplicatedEvents,
    storedMessages: counts.messages,
    ms: { produce: producedAt, killAt: killedAt, restartedAt, allStoredAt, allDeliveredAt: drainedAt, total: since() },
  };
  console.log(`kafka kill -9: ${JSON.stringify(summary)}`);
  t.diagnostic(`kafka kill -9: ${JSON.stringify(summary)}`);
  await second.stop();
});
