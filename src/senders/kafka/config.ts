import { z } from 'zod';
import { kafkaConnectionShape, topicName } from '../../protocols/kafka/client.ts';

/** Defaults of the Kafka destination, in one place, with their units. */
export const KAFKA_DESTINATION_DEFAULTS = Object.freeze({
  acks: -1, // every in-sync replica has the record
  compression: 'none',
  key: 'partition-key',
} as const);

/** RFC 9110-like token: what a header name may hold here. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the sender sets on every record. */
const RESERVED_HEADERS = new Set(['content-type', 'conduit-message-id', 'conduit-control-id', 'conduit-attempt']);

const headers = z.record(z.string().regex(HEADER_NAME, 'expected a header name'), z.string({ error: 'expected a header value (text)' })).superRefine((h, ctx) => {
  for (const name of Object.keys(h)) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: `header '${name}' is set by the sender` });
  }
});

/**
 * Configuration of one Kafka destination (`type: kafka`): each message becomes one record of
 * `topic`. Unknown keys are errors.
 */
export const kafkaDestinationConfig = z
  .object({
    ...kafkaConnectionShape,
    topic: topicName,
    /** -1 (all in-sync replicas), 1 (the leader) or 0 (no answer: acknowledged once written to the socket). */
    acks: z
      .union([z.literal(-1), z.literal(0), z.literal(1)], { error: 'expected -1 (all in-sync replicas), 1 (the leader) or 0 (no answer)' })
      .default(KAFKA_DESTINATION_DEFAULTS.acks),
    compression: z.enum(['none', 'gzip']).default(KAFKA_DESTINATION_DEFAULTS.compression),
    /**
     * The record key: the message's partition key (`patient:<id>`, so one patient's records share
     * a partition and keep their order), its control id, its message id, or none.
     */
    key: z.enum(['partition-key', 'control-id', 'message-id', 'none']).default(KAFKA_DESTINATION_DEFAULTS.key),
    /** Extra static headers on every record. */
    headers: headers.optional(),
  })
  .strict();

export type KafkaDestinationConfig = z.infer<typeof kafkaDestinationConfig>;
