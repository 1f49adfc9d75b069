import type { Logger } from 'pino';
import { ConduitError, type ErrorCode, ErrorCodes } from '../../errors.ts';
import { CharsetError, charsetOf, encodeHl7v2, type Hl7Charset, Hl7Message, type ParsedAck, readAck, sniffMsh18 } from '../../protocols/hl7v2/index.ts';
import { MllpClientConnection, type MllpClientOptions } from '../../protocols/mllp/index.ts';
import { type OutboundMessage, pastSendBy, type Sender, type SenderDeps, type SendOutcome } from '../types.ts';
import { loadClientTls } from '../../config/tls.ts';
import type { MllpDestinationConfig } from './config.ts';

function failure(code: ErrorCode, detail: string, response?: string): SendOutcome {
  const extra = response === undefined ? {} : { response };
  return ErrorCodes[code].retry === 'permanent'
    ? { status: 'rejected', code, detail, ...extra }
    : { status: 'retryable', code, detail, ...extra };
}

const SETTING_CHARSET = { 'utf-8': 'UNICODE UTF-8', latin1: '8859/1' } as const;

/**
 * The message as wire bytes, in the character set its MSH-18 declares (the ORU^R01 encoder
 * writes UNICODE UTF-8), the destination's `encoding` only when MSH-18 is empty, as on the
 * sources: Latin-1 bytes under a UTF-8 MSH-18 would be misread. Throws MLLP_PAYLOAD_INVALID.
 */
function wireBytes(payload: string, setting: MllpDestinationConfig['encoding']): { bytes: Buffer; charset: Hl7Charset } {
  try {
    return encodeHl7v2(payload, SETTING_CHARSET[setting]);
  } catch (e) {
    if (e instanceof CharsetError) throw new ConduitError('MLLP_PAYLOAD_INVALID', `the payload cannot be written: ${e.message}`);
    throw e;
  }
}

/** The acknowledgement as text: in its own MSH-18 set, else the message's; undecodable bytes as Latin-1 (MSA is ASCII). */
function ackText(reply: Buffer, sent: Hl7Charset): string {
  try {
    return (charsetOf(sniffMsh18(reply)) ?? sent).decode(reply);
  } catch {
    return reply.toString('latin1');
  }
}

function describeAck(ack: ParsedAck): string {
  return ack.text === '' ? ack.code : `${ack.code}: ${ack.text}`;
}

/**
 * Delivers HL7 v2 messages over one persistent MLLP connection, one message at a time.
 *
 * The connection is opened on the first send and reopened on the next send after any failure;
 * retry timing and parallel lanes belong to the dispatcher (one sender per lane). Each ACK is
 * matched to its message by MSA-2 = MSH-10. Logs carry host, port, message id and codes only,
 * never message contents.
 */
export class MllpSender implements Sender {
  private readonly options: MllpClientOptions;
  private readonly ackTimeoutMs: number;
  private readonly encoding: MllpDestinationConfig['encoding'];
  private readonly log: Logger;
  private connection: MllpClientConnection | undefined;
  /** The send in progress, if any: the next one starts after it. */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Connections opened so far. */
  connectionsOpened = 0;

  /** Throws CONFIG_INVALID when a TLS file cannot be read. */
  constructor(config: MllpDestinationConfig, deps: SenderDeps) {
    this.ackTimeoutMs = config.ackTimeoutMs;
    this.encoding = config.encoding;
    this.options = {
      host: config.host,
      port: config.port,
      connectTimeoutMs: config.connectTimeoutMs,
      maxFrameBytes: config.maxFrameBytes,
      encoding: config.encoding,
      ...(config.tls ? { tls: loadClientTls(config.tls) } : {}),
    };
    this.log = deps.log.child({ sender: 'mllp', host: config.host, port: config.port });
  }

  /** Whether a connection is open now (for health reporting); the next send opens one if not. */
  get connected(): boolean {
    return this.connection?.isOpen ?? false;
  }

  /** Resolves with the outcome; never rejects. Sends made while one is in progress wait their turn. */
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    let started = false;
    const run = this.tail.then(() => {
      started = true;
      return this.attempt(message, signal).catch((err: unknown) => this.failed(err, message));
    });
    this.tail = run;
    if (signal.aborted) return run;
    // A send still waiting for its turn answers an abort at once (its turn then passes quickly);
    // once started, the attempt itself answers the abort.
    return new Promise<SendOutcome>((resolve) => {
      const onAbort = (): void => {
        if (!started) resolve(failure('MLLP_ABORTED', 'aborted before the message was sent'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void run.then((outcome) => {
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      });
    });
  }

  /** Waits for the send in progress, then closes the connection gracefully. Later sends fail with MLLP_ABORTED. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
  }

  private async attempt(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    if (this.closed) return failure('MLLP_ABORTED', 'the sender is closed');
    if (signal.aborted) return failure('MLLP_ABORTED', 'aborted before the message was sent');
    // Before connecting: a payload that cannot be written is refused, whatever the peer's state.
    const { bytes, charset } = wireBytes(message.payload, this.encoding);
    let reply: Buffer;
    try {
      const connection = await this.connect(signal);
      // Connecting can take long enough for the lane's lease to run out.
      const late = pastSendBy(message);
      if (late) return late;
      reply = await connection.request(bytes, this.ackTimeoutMs, signal);
    } catch (err) {
      this.drop();
      return this.failed(err, message);
    }
    return this.classify(reply, message, charset);
  }

  private async connect(signal: AbortSignal): Promise<MllpClientConnection> {
    if (this.connection?.isOpen) return this.connection;
    this.connection = undefined;
    const connection = await MllpClientConnection.connect(this.options, signal);
    this.connectionsOpened += 1;
    this.connection = connection;
    this.log.debug('MLLP connection opened');
    return connection;
  }

  /** Forgets the connection: after anything unexpected its state cannot be trusted. */
  private drop(): void {
    this.connection?.destroy();
    this.connection = undefined;
  }

  private classify(reply: Buffer, message: OutboundMessage, sent: Hl7Charset): SendOutcome {
    const text = ackText(reply, sent);
    let ack: ParsedAck;
    try {
      ack = readAck(Hl7Message.parse(text));
    } catch (err) {
      this.drop();
      this.log.warn({ messageId: message.messageId, code: 'MLLP_ACK_INVALID' }, 'MLLP acknowledgement unreadable');
      return failure('MLLP_ACK_INVALID', `the acknowledgement could not be read: ${(err as Error).message}`, text);
    }
    if (ack.acknowledgedControlId !== message.controlId) {
      // Answers and messages are out of step on this connection: start afresh.
      this.drop();
      this.log.warn({ messageId: message.messageId, code: 'MLLP_ACK_MISMATCH' }, 'MLLP acknowledgement for another message');
      return failure(
        'MLLP_ACK_MISMATCH',
        `MSA-2 '${ack.acknowledgedControlId}' does not match MSH-10 '${message.controlId}'`,
        text,
      );
    }
    this.log.debug({ messageId: message.messageId, ackCode: ack.code }, 'MLLP acknowledgement');
    switch (ack.code) {
      case 'AA':
      case 'CA':
        return { status: 'acknowledged', response: text, ...(ack.text === '' ? {} : { detail: ack.text }) };
      case 'AE':
      case 'CE':
        return failure('HL7_APPLICATION_ERROR', describeAck(ack), text);
      case 'AR':
      case 'CR':
        return failure('HL7_APPLICATION_REJECT', describeAck(ack), text);
      default:
        return ack.code satisfies never;
    }
  }

  private failed(err: unknown, message: OutboundMessage): SendOutcome {
    if (err instanceof ConduitError) {
      this.log.warn({ messageId: message.messageId, code: err.code, errno: err.context['errno'] }, 'MLLP delivery attempt failed');
      return failure(err.code, err.message);
    }
    // Not a delivery failure: a bug. Still resolve, so one message cannot stall its lane.
    this.log.error({ messageId: message.messageId, error: (err as Error)?.name }, 'MLLP sender: unexpected error');
    return failure('MLLP_WRITE_FAILED', `unexpected error: ${(err as Error)?.name ?? 'unknown'}`);
  }
}
