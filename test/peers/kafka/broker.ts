/**
 * The Node side of the Kafka broker peer: start the single-node broker of broker.sh when it is
 * not running (it then keeps running for later tests; `broker.sh stop` or .ci/run stops it), and
 * create topics. The broker listens on 127.0.0.1:9092 unless KAFKA_PEER_PORT says otherwise.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import type { Admin, Kafka as KafkaClient } from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

const BROKER_SH = join(import.meta.dirname, 'broker.sh');

/** host:port of the test broker. */
export const BOOTSTRAP = `127.0.0.1:${process.env.KAFKA_PEER_PORT ?? '9092'}`;

function runBrokerSh(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BROKER_SH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

let ensured: Promise<void> | undefined;

/** Starts the broker (fetching its jars on first use) unless it is running; resolves once it answers. */
export function ensureBroker(): Promise<void> {
  ensured ??= (async () => {
    const status = await runBrokerSh(['status']);
    if (status.code === 0) return;
    const started = await runBrokerSh(['start']);
    if (started.code !== 0) throw new Error(`test/peers/kafka/broker.sh start failed (exit ${started.code}):\n${started.output}`);
  })().catch((e: unknown) => {
    ensured = undefined;
    throw e;
  });
  return ensured;
}

/** A kafkajs client for tests: silent (failures surface as rejections), short retries. */
export function testKafka(clientId = 'conduit-test'): KafkaClient {
  return new Kafka({ clientId, brokers: [BOOTSTRAP], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 } });
}

/** A topic name no other run uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Creates `name` with `partitions` partitions (replication 1) and topic `configs` (e.g. max.message.bytes), and waits
 * for its leaders; an existing topic is left as it is.
 */
export async function createTopic(name: string, partitions = 1, configs: Record<string, string> = {}): Promise<void> {
  await ensureBroker();
  const admin: Admin = testKafka('conduit-test-admin').admin();
  await admin.connect();
  try {
    const configEntries = Object.entries(configs).map(([name, value]) => ({ name, value }));
    // waitForLeaders reads the metadata of the new topic, which a broker may not serve yet for a moment
    // ("This server does not host this topic-partition"): try again; a topic created by then is left as it is.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1, configEntries }], waitForLeaders: true });
        break;
      } catch (e) {
        if (attempt >= 10) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await waitForLeaders(admin, name, partitions);
  } finally {
    await admin.disconnect();
  }
}

/** Polls the topic's metadata until each of its partitions has a leader. */
async function waitForLeaders(admin: Admin, name: string, partitions: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
      const parts = topics[0]?.partitions ?? [];
      if (parts.length === partitions && parts.every((p) => p.leader >= 0)) return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) throw new Error(`topic ${name}: partitions without a leader after 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deletes topics, ignoring ones that do not exist. */
export async function deleteTopics(names: string[]): Promise<void> {
  const admin = testKafka('conduit-test-admin').admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: names }).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}
