import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ConduitError, InputError, inboundAnswer } from '../../errors.ts';
import {
  type AckCode,
  type AckError,
  buildAck,
  DEFAULT_DELIMITERS,
  DelimiterError,
  ErrorCondition,
  type Hl7Charset,
  Hl7Message,
  Hl7ParseError,
  isoToDtm,
  readDelimiters,
} from '../../protocols/hl7v2/index.ts';
import { MllpServer, type OversizeFrame } from '../../protocols/mllp/index.ts';
import { controlId } from '../../util/ids.ts';
import { decodeHl7v2, refuseHl7ControlCharacters, settingCharset } from '../text.ts';
import type { Source, SourceContext } from '../types.ts';
import { ackErrors } from './ack-errors.ts';
import type { MllpSourceConfig } from './config.ts';

function ack(message: Hl7Message | undefined, code: AckCode, errors: AckError[] = [], fallbackControlId?: string): string {
  return buildAck(message, message?.delimiters ?? DEFAULT_DELIMITERS, {
    code,
    controlId: controlId(),
    timestamp: isoToDtm(new Date().toISOString()),
    errors,
    ...(fallbackControlId ? { fallback: { controlId: fallbackControlId } } : {}),
  });
}

/** MSH-10 from the first bytes of a message that could not be parsed whole, for the ACK's MSA-2. */
function sniffControlId(text: string): string | undefined {
  try {
    const d = readDelimiters(text);
    const msh = text.split(/[\r\n]/, 1)[0]!;
    return msh.split(d.field)[9];
  } catch {
    return undefined;
  }
}

/**
 * MLLP listener source: accepts any HL7 v2 message; answers AA only after the message is
 * durably stored, AE with an ERR segment (table 0357 code and location) for what it cannot
 * decode, parse or map. The frame is read in the character set MSH-18 declares (the channel's
 * `encoding` when it is empty), and the acknowledgement is written back in it.
 * While the backlog is over its bound, it stops reading (the handler waits),
 * so TCP flow control slows the sender instead of memory growing.
 */
export function createMllpSource(config: MllpSourceConfig, ctx: SourceContext): Source {
  const server = new MllpServer();
  const fallbackCharset = settingCharset(config.encoding);

  const refuse = (charset: Hl7Charset, message: Hl7Message | undefined, error: ConduitError, fallbackControlId?: string): Buffer =>
    charset.encode(ack(message, inboundAnswer(error.code).ack, ackErrors(error), fallbackControlId));

  const handle = async (frame: Buffer): Promise<Buffer | undefined> => {
    let text: string;
    let charset: Hl7Charset;
    try {
      ({ text, charset } = decodeHl7v2(frame, config));
      refuseHl7ControlCharacters(text);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      ctx.log.warn({ channel: ctx.channelId, code: e.code, location: e.location }, 'inbound HL7 v2 message could not be decoded');
      return refuse(fallbackCharset, undefined, e, sniffControlId(frame.toString('latin1')));
    }
    let message: Hl7Message;
    try {
      message = Hl7Message.parse(text);
    } catch (e) {
      if (!(e instanceof Hl7ParseError || e instanceof DelimiterError)) throw e;
      const hl7 = e instanceof Hl7ParseError ? e.hl7 : { segment: 'MSH', sequence: 1 };
      const code = e instanceof Hl7ParseError ? (e.errorCode as AckError['code']) : ErrorCondition.segmentSequenceError;
      ctx.log.warn({ channel: ctx.channelId, code: 'HL7_PARSE_FAILED', location: e instanceof Hl7ParseError ? e.location : 'MSH' }, 'inbound HL7 v2 message could not be parsed');
      return charset.encode(ack(undefined, 'AE', [{ code, ...hl7, text: e.message }], sniffControlId(text)));
    }
    if (config.respond === 'silent') return undefined;
    if (config.respond !== 'AA') {
      return charset.encode(
        ack(message, config.respond, [{ code: ErrorCondition.applicationInternalError, text: `rehearsal: channel ${ctx.channelId} is set to answer ${config.respond}` }]),
      );
    }
    const deadline = Date.now() + config.backpressureWaitMs;
    while (ctx.overloaded() && Date.now() < deadline) await sleep(50);
    try {
      await ctx.receive({ text, format: 'hl7v2' }, { sourceId: message.controlId || undefined });
      return charset.encode(ack(message, 'AA'));
    } catch (e) {
      if (e instanceof InputError) return refuse(charset, message, e);
      ctx.log.error({ err: e, channel: ctx.channelId }, 'MLLP intake failed');
      return charset.encode(ack(message, 'AE', [{ code: ErrorCondition.applicationInternalError, text: 'the message could not be stored; send it again' }]));
    }
  };

  const oversize = (f: OversizeFrame): string => {
    ctx.log.warn({ channel: ctx.channelId, bytes: f.byteCount }, 'MLLP frame over the size limit');
    return ack(undefined, 'AE', [{ code: ErrorCondition.applicationInternalError, text: `frame of ${f.byteCount} bytes exceeds the limit of ${config.maxFrameBytes}` }], sniffControlId(f.head.toString('latin1')));
  };

  return {
    async start() {
      await server.listen({
        host: config.host,
        port: config.port,
        maxFrameBytes: config.maxFrameBytes,
        encoding: config.encoding,
        handler: handle,
        onOversize: oversize,
        onGarbage: (bytes) => ctx.log.warn({ channel: ctx.channelId, bytes }, 'bytes outside MLLP frames discarded'),
        onError: (err) => ctx.log.warn({ err, channel: ctx.channelId }, 'MLLP connection error'),
        frameTimeoutMs: config.frameTimeoutMs,
        idleTimeoutMs: config.idleTimeoutMs,
        maxConnections: config.maxConnections,
        ...(config.maxBufferedBytes ? { maxBufferedBytes: config.maxBufferedBytes } : {}),
        onLimit: (limit, info) =>
          ctx.log.warn({ channel: ctx.channelId, connection: info.connectionId, limit: limit.kind, bytes: limit.bufferedBytes }, 'MLLP connection dropped by a limit'),
        ...(config.tls
          ? { tls: { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key), ...(config.tls.ca ? { ca: readFileSync(config.tls.ca) } : {}), requestCert: config.tls.requestCert } }
          : {}),
      });
    },
    stop: () => server.close(),
    describe: () => {
      const port = server.listening ? server.address().port : config.port;
      return `mllp${config.tls ? '+tls' : ''}://${config.host}:${port}`;
    },
  };
}
