import kafkajs from 'kafkajs';
import type { IHeaders, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { type ErrorCode, ErrorCodes } from '../../errors.ts';
import { classifyKafkaError, createKafkaClient, describeBrokers } from '../../protocols/kafka/client.ts';
import type { OutboundMessage, Sender, SenderDeps, SendOutcome } from '../types.ts';
import type { KafkaDestinationConfig } from './config.ts';
import { InFlight } from '../in-flight.ts';

const { CompressionTypes, Partitioners } = kafkajs;

function failure(code: ErrorCode, detail: string): SendOutcome {
  return ErrorCodes[code].retry === 'permanent' ? { status: 'rejected', code, detail } : { status: 'retryable', code, detail };
}

/**
 * Produces each message as one record of the destination's topic, keyed by the message's
 * partition key by default, so a patient's records land in one partition in delivery order
 * (kafkajs's default partitioner is murmur2, the Java client's: other clients agree on the
 * partition of a key). The value is the encoded payload; headers carry its content type,
 * message id, control id and attempt, so a consumer can drop a resend it already has.
 *
 * Acknowledged when the broker acknowledges with the configured `acks`; a record too large or a
 * topic the broker refuses is rejected; anything else (brokers unreachable, leader moving,
 * timeouts, credentials) is retried by the dispatcher. The producer connects on the first send
 * and again after a connection failure. Logs carry ids and codes, never the payload.
 */
export class KafkaSender implements Sender {
  private readonly config: KafkaDestinationConfig;
  private readonly log: Logger;
  private readonly kafka: ReturnType<typeof createKafkaClient>;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private readonly inFlight = new InFlight();
  private closed = false;

  /** Throws CONFIG_INVALID when a TLS file cannot be read. */
  constructor(config: KafkaDestinationConfig, deps: SenderDeps) {
    this.config = config;
    this.log = deps.log.child({ sender: 'kafka', brokers: describeBrokers(config.brokers), topic: config.topic });
    // Few client-side retries: the dispatcher owns retry timing, and a lane should learn of a failure soon.
    this.kafka = createKafkaClient(config, this.log, { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 });
  }

  /** Resolves with the outcome; never rejects. */
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    return this.inFlight.track(this.attempt(message, signal).catch((err: unknown) => this.failed(err, message)));
  }

  /** Later sends fail with KAFKA_ABORTED; waits for the sends in progress, then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight.settled();
    // A connect an aborted send left behind would otherwise leave its connection open.
    await this.connecting?.catch(() => {});
    await this.drop();
  }

  private key(message: OutboundMessage): string | null {
    switch (this.config.key) {
      case 'partition-key':
        return message.partitionKey ?? message.messageId;
      case 'control-id':
        return message.controlId;
      case 'message-id':
        return message.messageId;
      case 'none':
        return null;
      default:
        return this.config.key satisfies never;
    }
  }

  private async attempt(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    if (this.closed) return failure('KAFKA_ABORTED', 'the sender is closed');
    if (signal.aborted) return failure('KAFKA_ABORTED', 'aborted before the record was sent');
    const headers: IHeaders = {
      ...this.config.headers,
      'content-type': message.contentType,
      'conduit-message-id': message.messageId,
      'conduit-control-id': message.controlId,
      'conduit-attempt': String(message.attempt),
    };
    const sent = this.connect().then((producer) =>
      producer.send({
        topic: this.config.topic,
        acks: this.config.acks,
        timeout: this.config.requestTimeoutMs,
        ...(this.config.compression === 'gzip' ? { compression: CompressionTypes.GZIP } : {}),
        messages: [{ key: this.key(message), value: Buffer.from(message.payload, 'utf8'), headers }],
      }),
    );
    // kafkajs takes no AbortSignal: stop waiting (for the connection or the answer); the record may still land.
    let onAbort = (): void => {};
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const result = await Promise.race([sent, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
    if (result === 'aborted') {
      sent.catch(() => {});
      return failure('KAFKA_ABORTED', 'aborted before the broker answered');
    }
    const meta = result[0];
    if (!meta) return { status: 'acknowledged', response: '{}', detail: `acks ${this.config.acks}: no record metadata` };
    const at = { topic: meta.topicName, partition: meta.partition, offset: meta.baseOffset ?? null };
    return {
      status: 'acknowledged',
      response: JSON.stringify(at),
      detail: this.config.acks === 0 ? 'written (acks 0: the broker does not answer)' : `partition ${at.partition} offset ${at.offset}`,
    };
  }

  private connect(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    if (!this.connecting) {
      const p = this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        // A missing topic is a configuration problem to report, not to paper over by creating it.
        allowAutoTopicCreation: false,
        maxInFlightRequests: 1,
      });
      this.connecting = p.connect().then(
        () => {
          this.producer = p;
          this.connecting = undefined;
          return p;
        },
        (e: unknown) => {
          this.connecting = undefined;
          void p.disconnect().catch(() => {});
          throw e;
        },
      );
    }
    return this.connecting;
  }

  /** Forgets the producer, so the next send connects again. */
  private async drop(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.disconnect().catch(() => {});
  }

  private async failed(err: unknown, message: OutboundMessage): Promise<SendOutcome> {
    const { code, detail } = classifyKafkaError(err);
    if (code === 'KAFKA_CONNECT_FAILED') await this.drop();
    // The dispatcher logs the outcome and stores the detail with the attempt.
    this.log.debug({ messageId: message.messageId, attempt: message.attempt, code }, 'Kafka produce failed');
    return failure(code, detail);
  }
}
