/**
 * What the Kafka source and the Kafka destination share: the connection settings of a channel
 * file (brokers, client id, TLS, SASL, timeouts), building a kafkajs client from them with its
 * logs routed to ours, and the classification of kafkajs errors into our error codes.
 */
import kafkajs from 'kafkajs';
import type { KafkaConfig, LogEntry, RetryOptions, SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ClientTlsConfig, loadClientTls } from '../../config/tls.ts';
import type { ErrorCode } from '../../errors.ts';

const { Kafka, logLevel } = kafkajs;

/** Defaults shared by the Kafka source and destination, with their units. */
export const KAFKA_CLIENT_DEFAULTS = Object.freeze({
  clientId: 'conduit',
  connectionTimeoutMs: 3_000, // 3 seconds for TCP connect plus TLS handshake, per broker
  requestTimeoutMs: 30_000, // 30 seconds for any request's answer
  authenticationTimeoutMs: 10_000, // 10 seconds for the SASL exchange
} as const);

/** A topic name as Kafka accepts it (at most 249 of ASCII letters, digits, '.', '_', '-'; not '.' or '..'). */
export const topicName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, "expected a Kafka topic name: 1-249 of A-Z a-z 0-9 '.' '_' '-'")
  .refine((t) => t !== '.' && t !== '..', { message: "'.' and '..' are not topic names" });

const brokerAddress = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:9092');

const positiveMs = z.number().int().positive();

const tlsConfig = ClientTlsConfig;
export type KafkaTlsConfig = z.infer<typeof tlsConfig>;

const secret = z.string().min(1, 'expected a value (reference it as $' + '{ENV_NAME})');
/** SASL over the connection (with `tls` for SASL_SSL, without for SASL_PLAINTEXT). */
const saslConfig = z.discriminatedUnion('mechanism', [
  z.object({ mechanism: z.literal('plain'), username: z.string().min(1), password: secret }).strict(),
  z.object({ mechanism: z.literal('scram-sha-256'), username: z.string().min(1), password: secret }).strict(),
  z.object({ mechanism: z.literal('scram-sha-512'), username: z.string().min(1), password: secret }).strict(),
]);
export type KafkaSaslConfig = z.infer<typeof saslConfig>;

/** The connection keys of a `type: kafka` source or destination block. */
export const kafkaConnectionShape = {
  /** Bootstrap brokers, host:port; the client learns the rest of the cluster from them. */
  brokers: z.array(brokerAddress).min(1, 'expected at least one broker (host:port)'),
  clientId: z.string().min(1).default(KAFKA_CLIENT_DEFAULTS.clientId),
  tls: tlsConfig.optional(),
  sasl: saslConfig.optional(),
  connectionTimeoutMs: positiveMs.default(KAFKA_CLIENT_DEFAULTS.connectionTimeoutMs),
  requestTimeoutMs: positiveMs.default(KAFKA_CLIENT_DEFAULTS.requestTimeoutMs),
};
const connection = z.object(kafkaConnectionShape);
export type KafkaConnectionConfig = z.infer<typeof connection>;


/** Fields of a kafkajs log entry that are safe to keep: ids, addresses and error texts, never record contents. */
const KEPT_LOG_FIELDS = ['broker', 'clientId', 'groupId', 'memberId', 'topic', 'partition', 'error', 'retryCount', 'retryTime'] as const;

/**
 * Routes kafkajs's logs into ours at one level lower (its ERROR lines are mostly transient:
 * a coordinator not ready yet, a broker restarting; what matters is reported by the source and
 * sender with a code). Only whitelisted fields pass.
 */
function logCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry): void => {
      const fields: Record<string, unknown> = { component: 'kafkajs' };
      const raw = entry as unknown as Record<string, unknown>;
      for (const k of KEPT_LOG_FIELDS) if (raw[k] !== undefined) fields[k] = raw[k];
      const text = `kafkajs: ${entry.message}`;
      if (level <= logLevel.WARN) log.warn(fields, text);
      else if (level === logLevel.INFO) log.debug(fields, text);
      else log.trace(fields, text);
    };
}

/** A kafkajs client for one source or destination. Throws CONFIG_INVALID when a TLS file cannot be read. */
export function createKafkaClient(config: KafkaConnectionConfig, log: Logger, retry: RetryOptions): InstanceType<typeof Kafka> {
  const verbose = log.isLevelEnabled('debug');
  const options: KafkaConfig = {
    brokers: config.brokers,
    clientId: config.clientId,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    authenticationTimeout: KAFKA_CLIENT_DEFAULTS.authenticationTimeoutMs,
    retry,
    logLevel: verbose ? logLevel.INFO : logLevel.WARN,
    logCreator: logCreator(log),
    ...(config.tls ? { ssl: loadClientTls(config.tls) } : {}),
    ...(config.sasl ? { sasl: { ...config.sasl } as SASLOptions } : {}),
  };
  return new Kafka(options);
}

/** Where to show a client in logs and `describe()`: the first broker, or `a:9092,+2`. */
export function describeBrokers(brokers: readonly string[]): string {
  return brokers.length === 1 ? brokers[0]! : `${brokers[0]},+${brokers.length - 1}`;
}

interface KafkaLikeError {
  name?: string;
  message?: string;
  type?: string;
  retriable?: boolean;
  cause?: unknown;
  code?: string;
}

/** kafkajs wraps the error that matters: retries exhausted, a non-retriable wrapper. */
function innermost(e: unknown): KafkaLikeError {
  let err = (e ?? {}) as KafkaLikeError;
  for (let i = 0; i < 5; i++) {
    const wrapper = err.name === 'KafkaJSNumberOfRetriesExceeded' || err.name === 'KafkaJSNonRetriableError';
    if (!wrapper || err.cause === undefined || err.cause === null) break;
    err = err.cause as KafkaLikeError;
  }
  return err;
}

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
const AUTH = new Set([
  'TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM',
]);
/** Refusals of this record (not of the connection or the cluster's state): resending it cannot help. */
const RECORD_REFUSED = new Set(['CORRUPT_MESSAGE', 'INVALID_RECORD', 'UNSUPPORTED_FOR_MESSAGE_FORMAT', 'INVALID_TIMESTAMP']);

/**
 * Our code for a kafkajs error. Only refusals of the record itself are permanent (too large,
 * invalid, a topic name the broker refuses); authentication and authorization failures are
 * configuration problems of the whole destination, retried until fixed rather than rejecting
 * every message of the backlog.
 */
export function classifyKafkaError(e: unknown): { code: ErrorCode; detail: string } {
  const err = innermost(e);
  const detail = `${err.name ?? 'Error'}: ${err.message ?? String(e)}`;
  const code = ((): ErrorCode => {
    if (err.name === 'KafkaJSProtocolError' || err.type !== undefined) {
      const type = err.type ?? '';
      if (TOO_LARGE.has(type)) return 'KAFKA_RECORD_TOO_LARGE';
      if (type === 'INVALID_TOPIC_EXCEPTION') return 'KAFKA_TOPIC_INVALID';
      if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return 'KAFKA_TOPIC_UNKNOWN';
      if (type === 'REQUEST_TIMED_OUT') return 'KAFKA_TIMEOUT';
      if (AUTH.has(type)) return 'KAFKA_AUTH_FAILED';
      if (RECORD_REFUSED.has(type)) return 'KAFKA_RECORD_INVALID';
      return 'KAFKA_BROKER_ERROR';
    }
    switch (err.name) {
      case 'KafkaJSSASLAuthenticationError':
        return 'KAFKA_AUTH_FAILED';
      case 'KafkaJSRequestTimeoutError':
      case 'KafkaJSTimeout':
        return 'KAFKA_TIMEOUT';
      case 'KafkaJSConnectionError':
      case 'KafkaJSConnectionClosedError':
      case 'KafkaJSBrokerNotFound':
      case 'KafkaJSMetadataNotLoaded':
      case 'KafkaJSGroupCoordinatorNotFound':
        return 'KAFKA_CONNECT_FAILED';
      case 'KafkaJSTopicMetadataNotLoaded':
        return 'KAFKA_TOPIC_UNKNOWN';
      default:
        return typeof err.code === 'string' && /^E[A-Z]+/.test(err.code) ? 'KAFKA_CONNECT_FAILED' : 'KAFKA_BROKER_ERROR';
    }
  })();
  return { code, detail };
}
