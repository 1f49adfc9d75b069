import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
import { ConduitError, type ErrorCode, InputError } from '../../errors.ts';
import { classifyKafkaError, createKafkaClient, describeBrokers } from '../../protocols/kafka/client.ts';
import { decodeInput } from '../text.ts';
import type { Source, SourceContext } from '../types.ts';
import { type KafkaSourceConfig, kafkaGroupId } from './config.ts';

const { Partitioners } = kafkajs;

/** Longest wait between attempts to (re)start the consumer while the brokers are unreachable. */
const MAX_RESTART_DELAY_MS = 30_000;
/** Longest error text copied into a dead-letter record's header. */
const MAX_ERROR_HEADER = 2_000;

/** Why a record was not taken: the partition pauses and reads it again later. */
interface NotTaken {
  readonly code: ErrorCode;
  readonly error: unknown;
}
type Taken = 'stored' | 'refused';

/**
 * Kafka source: consumes one topic in a consumer group and hands each record's value to the
 * channel. An offset is committed only once its record, and every record before it in the
 * partition, is durably stored (or refused as bad input): after a crash the group re-reads from
 * the last commit, and intake, idempotent on the event's id + version, stores each event once.
 *
 * - Bad input (the channel answers InputError) does not block the partition: the code, topic,
 *   partition and offset are logged (never the contents), the record is copied to
 *   `deadLetterTopic` if one is set (a failed copy is retried like a store failure), and
 *   consumption goes on.
 * - Backpressure and store failures pause the partition for `retryPauseMs`; it resumes at the
 *   first record not taken, so nothing past an unstored record is ever committed.
 * - Records are taken `maxBatch` at a time (one group commit of the store); records with the
 *   same key stay in order, one after another (`order: partition`: every record of a partition).
 */
export function createKafkaSource(config: KafkaSourceConfig, ctx: SourceContext): Source {
  const groupId = kafkaGroupId(config, ctx.channelId);
  const log = ctx.log.child({ channel: ctx.channelId });
  // Few retries inside kafkajs: an unreachable cluster is reported soon, then retried by keepTrying with its own backoff.
  const kafka = createKafkaClient(config, log, { retries: 3, initialRetryTime: 300, maxRetryTime: 5_000 });
  const where = `kafka://${describeBrokers(config.brokers)}/${config.topic}`;

  let stopped = true;
  let consumer: Consumer | undefined;
  /** The consumer being started, so `stop` can cut a connect that is still retrying. */
  let starting: Consumer | undefined;
  let deadLetters: Producer | undefined;
  let running: Promise<void> | undefined;
  /** Wakes the restart loop's sleep when the source stops. */
  let stopSignal = new AbortController();
  const resumeTimers = new Set<NodeJS.Timeout>();

  const deadLetter = async (topic: string, partition: number, m: KafkaMessage, e: InputError): Promise<Taken | NotTaken> => {
    log.warn(
      { code: e.code, location: e.location, topic, partition, offset: m.offset, deadLetterTopic: config.deadLetterTopic },
      config.deadLetterTopic ? 'record refused by the channel; copied to the dead-letter topic' : 'record refused by the channel; skipped',
    );
    if (!config.deadLetterTopic || !deadLetters) return 'refused';
    const headers: IHeaders = {
      ...m.headers,
      'conduit-error-code': e.code,
      'conduit-error': e.message.slice(0, MAX_ERROR_HEADER),
      'conduit-source': `${topic}:${partition}:${m.offset}`,
      'conduit-channel': ctx.channelId,
    };
    try {
      await deadLetters.send({ topic: config.deadLetterTopic, acks: -1, messages: [{ key: m.key, value: m.value, headers }] });
      return 'refused';
    } catch (err) {
      return { code: 'KAFKA_DEAD_LETTER_FAILED', error: err };
    }
  };

  const takeRecord = async (topic: string, partition: number, m: KafkaMessage): Promise<Taken | NotTaken> => {
    try {
      if (m.value === null) {
        throw new InputError('INPUT_INVALID', [{ path: '(record value)', code: 'required', message: 'the record has no value (a tombstone)' }]);
      }
      const text = decodeInput(m.value, config.format, config, '(record value)');
      // The record's own coordinates: the idempotency key of channels that store input without mapping it.
      await ctx.receive({ text, format: config.format }, { sourceId: `${topic}:${partition}:${m.offset}` });
      return 'stored';
    } catch (e) {
      if (e instanceof InputError) return deadLetter(topic, partition, m, e);
      return { code: e instanceof ConduitError ? e.code : 'STORE_FAILED', error: e };
    }
  };

  /**
   * Takes a run of records of one partition: records of different keys concurrently (the
   * store commits them together), records of one key one after another. Returns how many
   * records from the start are taken, and why the next one was not.
   */
  const takeRun = async (topic: string, partition: number, run: readonly KafkaMessage[]): Promise<{ taken: number; stop?: NotTaken }> => {
    const results: Array<Taken | NotTaken | undefined> = new Array(run.length);
    const byKey = new Map<string, number[]>();
    for (const [i, m] of run.entries()) {
      const key = config.order === 'partition' || m.key === null ? '' : m.key.toString('latin1');
      const list = byKey.get(key);
      if (list) list.push(i);
      else byKey.set(key, [i]);
    }
    await Promise.all(
      [...byKey.values()].map(async (indexes) => {
        for (const i of indexes) {
          const r = await takeRecord(topic, partition, run[i]!);
          results[i] = r;
          // The rest of this key waits: taking it now would store it before the record that failed.
          if (typeof r !== 'string') return;
        }
      }),
    );
    let taken = 0;
    while (taken < run.length && typeof results[taken] === 'string') taken++;
    if (taken === run.length) return { taken };
    const next = results[taken];
    // A record not taken is always preceded, within the run, by the failure of its key; never commit past it either way.
    return { taken, stop: typeof next === 'object' ? next : { code: 'STORE_FAILED', error: new Error('a record of the run was not taken') } };
  };

  /** Pauses one partition; it resumes after `retryPauseMs` at its first record not taken. */
  const hold = (pause: EachBatchPayload['pause']): void => {
    const resume = pause();
    const timer = setTimeout(() => {
      resumeTimers.delete(timer);
      if (!stopped) resume();
    }, config.retryPauseMs);
    resumeTimers.add(timer);
  };

  const eachBatch = async ({ batch, resolveOffset, heartbeat, pause, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> => {
    const { topic, partition, messages } = batch;
    for (let start = 0; start < messages.length; start += config.maxBatch) {
      if (stopped || !isRunning() || isStale()) return;
      if (ctx.overloaded()) {
        log.debug({ code: 'BACKPRESSURE', topic, partition, offset: messages[start]!.offset }, 'backlog over its bound; partition paused');
        hold(pause);
        return;
      }
      const run = messages.slice(start, start + config.maxBatch);
      const { taken, stop } = await takeRun(topic, partition, run);
      if (taken > 0) resolveOffset(run[taken - 1]!.offset);
      if (stop) {
        const offset = run[taken]!.offset;
        if (stop.code === 'BACKPRESSURE') log.debug({ code: stop.code, topic, partition, offset }, 'backlog over its bound; partition paused');
        else log.warn({ err: stop.error, code: stop.code, topic, partition, offset, retryInMs: config.retryPauseMs }, 'record not stored; partition paused, it is read again');
        hold(pause);
        return;
      }
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  };

  const startConsumer = async (): Promise<Consumer> => {
    const c = kafka.consumer({
      groupId,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxBytesPerPartition: config.maxBytesPerPartition,
      maxWaitTimeInMs: config.maxWaitTimeMs,
      // A missing topic is a configuration error to report, not one to paper over by creating it.
      allowAutoTopicCreation: false,
      retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 5_000, restartOnFailure: async () => true },
    });
    starting = c;
    try {
      if (config.deadLetterTopic && !deadLetters) {
        const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
        await p.connect();
        deadLetters = p;
      }
      await c.connect();
      await c.subscribe({ topics: [config.topic], fromBeginning: config.fromBeginning });
      c.on(c.events.GROUP_JOIN, ({ payload }) => {
        const partitions = payload.memberAssignment[config.topic] ?? [];
        log.info({ topic: config.topic, groupId, partitions }, 'Kafka consumer joined its group');
      });
      c.on(c.events.CRASH, ({ payload }) => {
        const { code, detail } = classifyKafkaError(payload.error);
        log.warn({ code: 'KAFKA_CONSUMER_FAILED', cause: code, detail, restart: payload.restart }, 'Kafka consumer stopped on an error');
        if (!payload.restart && !stopped) restart(c);
      });
      await c.run({
        eachBatch,
        eachBatchAutoResolve: false,
        autoCommit: true,
        autoCommitInterval: config.commitIntervalMs,
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      });
      return c;
    } catch (e) {
      await c.disconnect().catch(() => {});
      throw e;
    } finally {
      starting = undefined;
    }
  };

  /** Starts the consumer, retrying with backoff until it runs or the source stops. */
  const keepTrying = async (): Promise<void> => {
    let delay = 1_000;
    while (!stopped) {
      try {
        const c = await startConsumer();
        if (stopped) {
          await c.disconnect();
          return;
        }
        consumer = c;
        return;
      } catch (e) {
        const { code, detail } = classifyKafkaError(e);
        log.warn({ code, detail, topic: config.topic, groupId, retryInMs: delay }, 'Kafka consumer could not start; trying again');
        await sleep(delay, undefined, { signal: stopSignal.signal }).catch(() => {});
        delay = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
      }
    }
  };

  /** A consumer kafkajs will not restart by itself: drop it and start a new one. */
  const restart = (dead: Consumer): void => {
    if (consumer !== dead) return;
    consumer = undefined;
    running = (async () => {
      await dead.disconnect().catch(() => {});
      await keepTrying();
    })();
  };

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      stopSignal = new AbortController();
      // Not awaited: an unreachable broker must not keep the engine from starting; it is logged and retried.
      running = keepTrying();
    },
    async stop() {
      stopped = true;
      stopSignal.abort();
      for (const t of resumeTimers) clearTimeout(t);
      resumeTimers.clear();
      await starting?.disconnect().catch(() => {});
      await running;
      // Waits for the batch in progress; its stored offsets are committed on the way out.
      await consumer?.disconnect().catch((e: unknown) => log.warn({ ...classifyKafkaError(e) }, 'Kafka consumer disconnect failed'));
      consumer = undefined;
      await deadLetters?.disconnect().catch(() => {});
      deadLetters = undefined;
    },
    describe: () => `${where} (group ${groupId})`,
  };
}
