import { z } from 'zod';
import { kafkaConnectionShape, topicName } from '../../protocols/kafka/client.ts';
import { AcceptedCharsets } from '../text.ts';

/** Defaults of the Kafka source, in one place, with their units. */
export const KAFKA_SOURCE_DEFAULTS = Object.freeze({
  format: 'json',
  encoding: 'utf-8',
  fromBeginning: false,
  order: 'key',
  maxBatch: 100, // records of one partition taken into the store at once (one group commit)
  partitionsConsumedConcurrently: 1,
  maxBytesPerPartition: 1_048_576, // 1 MiB fetched per partition per request
  maxWaitTimeMs: 500, // 0.5 seconds the broker may hold a fetch open waiting for records
  sessionTimeoutMs: 30_000, // 30 seconds without heartbeats before the group reassigns our partitions
  heartbeatIntervalMs: 3_000, // 3 seconds
  commitIntervalMs: 1_000, // 1 second: stored offsets are committed at least this often while a batch runs
  retryPauseMs: 1_000, // 1 second a partition stays paused after backpressure or a store failure
} as const);

const positiveMs = z.number().int().positive();

/**
 * Configuration of a Kafka source (`type: kafka`): consumes a topic in a consumer group and
 * takes each record into the channel. Unknown keys are errors.
 */
export const KafkaSourceConfig = z
  .object({
    ...kafkaConnectionShape,
    topic: topicName,
    /** Consumer group; the default `conduit.<channel id>` gives every channel its own. */
    groupId: z.string().min(1).optional(),
    /** What the record values are: platform events (JSON) or HL7 v2 messages (ER7). */
    format: z.enum(['json', 'hl7v2']).default(KAFKA_SOURCE_DEFAULTS.format),
    encoding: z.enum(['utf-8', 'latin1']).default(KAFKA_SOURCE_DEFAULTS.encoding),
    /** With format hl7v2: the MSH-18 values (HL7 table 0211) accepted; absent, every one the engine decodes. An empty MSH-18 means `encoding`. */
    charsets: AcceptedCharsets.optional(),
    /** Where a group without committed offsets starts: the oldest record (true) or new records only. */
    fromBeginning: z.boolean().default(KAFKA_SOURCE_DEFAULTS.fromBeginning),
    /**
     * What must stay in order: records with the same key (`key`, records without a key keep
     * partition order) or every record of a partition (`partition`, one at a time). Key the topic
     * by patient: records of different keys are stored concurrently.
     */
    order: z.enum(['key', 'partition']).default(KAFKA_SOURCE_DEFAULTS.order),
    maxBatch: z.number().int().min(1).max(10_000).default(KAFKA_SOURCE_DEFAULTS.maxBatch),
    partitionsConsumedConcurrently: z.number().int().min(1).max(64).default(KAFKA_SOURCE_DEFAULTS.partitionsConsumedConcurrently),
    maxBytesPerPartition: z.number().int().positive().default(KAFKA_SOURCE_DEFAULTS.maxBytesPerPartition),
    maxWaitTimeMs: positiveMs.default(KAFKA_SOURCE_DEFAULTS.maxWaitTimeMs),
    sessionTimeoutMs: positiveMs.default(KAFKA_SOURCE_DEFAULTS.sessionTimeoutMs),
    heartbeatIntervalMs: positiveMs.default(KAFKA_SOURCE_DEFAULTS.heartbeatIntervalMs),
    commitIntervalMs: positiveMs.default(KAFKA_SOURCE_DEFAULTS.commitIntervalMs),
    retryPauseMs: positiveMs.default(KAFKA_SOURCE_DEFAULTS.retryPauseMs),
    /** Records the channel refuses (bad input) are copied here, with the error in headers, then skipped. */
    deadLetterTopic: topicName.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.heartbeatIntervalMs >= c.sessionTimeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['heartbeatIntervalMs'], message: 'expected a heartbeat interval shorter than sessionTimeoutMs (about a third of it)' });
    }
    if (c.deadLetterTopic !== undefined && c.deadLetterTopic === c.topic) {
      ctx.addIssue({ code: 'custom', path: ['deadLetterTopic'], message: 'the dead-letter topic must differ from the topic consumed' });
    }
  });
export type KafkaSourceConfig = z.infer<typeof KafkaSourceConfig>;

export function kafkaGroupId(config: KafkaSourceConfig, channelId: string): string {
  return config.groupId ?? `conduit.${channelId}`;
}
