/**
 * Shared pieces of the Kafka tier (test/kafka/*.kafka.ts, run by `npm run test:kafka` against the
 * real broker of test/peers/kafka): channel files, producing generated events, reading a topic back.
 */
import kafkajs from 'kafkajs';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { BOOTSTRAP, testKafka } from '../peers/kafka/broker.ts';
import type { GeneratedEvent } from '../support/platform-events.ts';

const { Partitioners } = kafkajs;

export interface KafkaChannelOptions {
  topic: string;
  /** MLLP port of the LIS the channel delivers to. */
  mllpPort: number;
  groupId?: string;
  deadLetterTopic?: string;
  /** Extra YAML lines of the source block, indented by two spaces. */
  extraSource?: string;
  /** The destination's delivery block, YAML lines indented by six spaces. */
  delivery?: string;
}

/**
 * A Kafka source (platform events, from the beginning, a short session timeout so a restarted
 * engine gets its partitions back within seconds) → platform-result → ORU^R01 → MLLP channel.
 */
export function kafkaToMllpChannel(id: string, o: KafkaChannelOptions): string {
  return `id: ${id}
source:
  type: kafka
  brokers: [${BOOTSTRAP}]
  topic: ${o.topic}
  groupId: ${o.groupId ?? `conduit-test.${id}.${o.topic}`}
  clientId: conduit-test
  format: json
  fromBeginning: true
  sessionTimeoutMs: 6000
  heartbeatIntervalMs: 1000
  retryPauseMs: 200${o.deadLetterTopic ? `\n  deadLetterTopic: ${o.deadLetterTopic}` : ''}${o.extraSource ?? ''}
mapping: platform-result
destinations:
  - id: lis
    mapping: oru-r01-lis
    sender:
      type: mllp
      host: 127.0.0.1
      port: ${o.mllpPort}
      ackTimeoutMs: 5000
    delivery:
${o.delivery ?? '      maxAttempts: 50\n      initialBackoffMs: 50\n      maxBackoffMs: 500'}
`;
}

export interface RecordToProduce {
  key: string | null;
  value: string | null;
  headers?: IHeaders;
}

/** Produces records in order (acks -1), `batch` per request. */
export async function produce(topic: string, records: readonly RecordToProduce[], batch = 500): Promise<void> {
  const kafka = testKafka('conduit-test-producer');
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += batch) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + batch).map((r) => ({ key: r.key, value: r.value, headers: r.headers })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Generated platform events as records keyed by patient, as the platform's event stream is. */
export function eventRecords(events: readonly GeneratedEvent[]): RecordToProduce[] {
  return events.map((e) => ({ key: e.patientId, value: e.body }));
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

function headersOf(m: KafkaMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  return out;
}

/** Reads a topic from the beginning in a fresh group until `count` records arrived (rejects after `timeoutMs`). */
export async function readTopic(topic: string, count: number, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const consumer = testKafka('conduit-test-reader').consumer({ groupId: `reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const records: ReadRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`read ${records.length} of ${count} records of ${topic} within ${timeoutMs} ms`)), timeoutMs);
      if (count === 0) resolve();
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            records.push({
              partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? null,
              value: message.value?.toString('utf8') ?? null,
              headers: headersOf(message),
            });
            if (records.length >= count) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return records;
}

/** The group's committed offset per partition (-1: none). */
export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = testKafka('conduit-test-admin').admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** The end offset (next offset to be written) per partition. */
export async function endOffsets(topic: string): Promise<Map<number, number>> {
  const admin = testKafka('conduit-test-admin').admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` every `intervalMs` until it returns true; rejects with `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: () => string, timeoutMs = 30_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
