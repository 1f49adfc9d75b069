/**
 * A scripted MLLP receiver (a fake LIS) on 127.0.0.1, port 0, built on our MllpServer. It
 * records every frame it receives, duplicates included, in arrival order, and answers each
 * with an ACK built by `buildAck` (MSA-2 = MSH-10): AA by default, or whatever the script
 * says for the n-th frame (AE, AR, silence, a dropped connection, a delay). Like Camel's
 * MllpServerResource, but driven per message.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AckCode, buildAck, DEFAULT_DELIMITERS, ErrorCondition, Hl7Message, isoToDtm } from '../../src/protocols/hl7v2/index.ts';
import { type MllpConnectionInfo, MllpServer } from '../../src/protocols/mllp/index.ts';

/** What the receiver does with one frame. */
export type ReceiverAction =
  /** Answer with this acknowledgement code (after `delayMs`); AE/AR carry an ERR with `text`. */
  | { kind: 'ack'; code: AckCode; delayMs?: number; text?: string }
  /** Answer nothing: the sender's ACK timeout fires. */
  | { kind: 'silence' }
  /** Drop the connection without answering (after `delayMs`). */
  | { kind: 'close'; delayMs?: number };

export const answer = {
  ack: (code: AckCode, delayMs?: number, text?: string): ReceiverAction => ({ kind: 'ack', code, ...(delayMs ? { delayMs } : {}), ...(text ? { text } : {}) }),
  silence: (): ReceiverAction => ({ kind: 'silence' }),
  close: (delayMs?: number): ReceiverAction => ({ kind: 'close', ...(delayMs ? { delayMs } : {}) }),
};

export interface ReceivedFrame {
  /** 1-based position in the order of arrival, over all connections. */
  readonly n: number;
  readonly connectionId: number;
  /** MSH-10; undefined when the frame is not a parseable HL7 v2 message. */
  readonly controlId: string | undefined;
  /** MSH-9 as ORU^R01. */
  readonly messageType: string | undefined;
  /** PID-3, first repetition, ID number (CX-1). */
  readonly patientId: string | undefined;
  /** ORC-3 filler order number, entity identifier (EI-1). */
  readonly fillerId: string | undefined;
  /** Wall clock (Date.now()) at arrival. */
  readonly at: number;
  /** performance.now() at arrival, for latencies measured in this process. */
  readonly hrAt: number;
  /** performance.now() when the answer was written; undefined until then, or when there is none. */
  answeredAt: number | undefined;
  /** What the receiver did. */
  action: ReceiverAction['kind'] | undefined;
  /** The ACK code sent, if any. */
  ackCode: AckCode | undefined;
  /** The payload (only with `keepRaw`). */
  readonly raw: string | undefined;
  /** Why the frame could not be parsed. */
  readonly parseError: string | undefined;
}

/** Chooses the action for the n-th frame (1-based); undefined falls back to the default. */
export type ReceiverScript = (n: number, frame: ReceivedFrame) => ReceiverAction | undefined;

export interface RecordingReceiverOptions {
  /** Delay before every default AA, in ms (to make delivery slower than intake). Default 0. */
  delayMs?: number;
  /** Per-frame actions: a function, or actions by 1-based frame number. */
  script?: ReceiverScript | Record<number, ReceiverAction>;
  /** Keep each payload in `frames[i].raw`. Default false (a benchmark receives tens of thousands). */
  keepRaw?: boolean;
  /** Append every frame to `frames`. Default true; a benchmark counts in `onAnswered` instead. */
  record?: boolean;
  /** Called for every frame once its answer (if any) is written. */
  onAnswered?: (frame: ReceivedFrame) => void;
  /** Listen on this port (a LIS coming back after being down); default any free port. */
  port?: number;
}

export interface RecordingReceiver {
  readonly port: number;
  /** Every frame received, in order (unless `record: false`). */
  readonly frames: ReceivedFrame[];
  /** Frames received so far, recorded or not. */
  readonly count: number;
  readonly server: MllpServer;
  /** Changes the default ACK delay from now on. */
  setDelay(ms: number): void;
  /** Replaces the script from now on. */
  setScript(script: RecordingReceiverOptions['script']): void;
  /** Resolves once `predicate(frames)` holds (checked at every answered frame); rejects after `timeoutMs` or on close. */
  waitFor(predicate: (frames: readonly ReceivedFrame[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Frames by filler id (ORC-3), each list in arrival order. */
  byFiller(): Map<string, ReceivedFrame[]>;
  /** Stops listening, drops every connection and rejects pending `waitFor`s. */
  close(): Promise<void>;
}

function readFields(text: string): Pick<ReceivedFrame, 'controlId' | 'messageType' | 'patientId' | 'fillerId'> & { message: Hl7Message } {
  const message = Hl7Message.parse(text);
  const pid = message.segment('PID');
  const orc = message.segment('ORC');
  return {
    message,
    controlId: message.controlId,
    messageType: message.messageType,
    patientId: pid ? pid.get(3) : undefined,
    fillerId: orc ? orc.get(3) : undefined,
  };
}

export async function startRecordingReceiver(options: RecordingReceiverOptions = {}): Promise<RecordingReceiver> {
  const frames: ReceivedFrame[] = [];
  const record = options.record ?? true;
  let count = 0;
  let delayMs = options.delayMs ?? 0;
  let script = options.script;
  /** Pending waitFor calls: `check` re-evaluates one, `cancel` rejects it (on close). */
  const waiters = new Set<{ check: () => void; cancel: () => void }>();
  const server = new MllpServer();

  const choose = (n: number, frame: ReceivedFrame): ReceiverAction => {
    const scripted = typeof script === 'function' ? script(n, frame) : script?.[n];
    return scripted ?? { kind: 'ack', code: 'AA', ...(delayMs > 0 ? { delayMs } : {}) };
  };

  const settled = (frame: ReceivedFrame): void => {
    options.onAnswered?.(frame);
    for (const w of waiters) w.check();
  };

  const handler = async (payload: Buffer, info: MllpConnectionInfo): Promise<string | undefined> => {
    const text = payload.toString('utf8');
    const hrAt = performance.now();
    let fields: ReturnType<typeof readFields> | undefined;
    let parseError: string | undefined;
    try {
      fields = readFields(text);
    } catch (e) {
      parseError = (e as Error).message;
    }
    const frame: ReceivedFrame = {
      n: ++count,
      connectionId: info.connectionId,
      controlId: fields?.controlId,
      messageType: fields?.messageType,
      patientId: fields?.patientId,
      fillerId: fields?.fillerId,
      at: Date.now(),
      hrAt,
      answeredAt: undefined,
      action: undefined,
      ackCode: undefined,
      raw: options.keepRaw ? text : undefined,
      parseError,
    };
    if (record) frames.push(frame);
    const action = choose(frame.n, frame);
    frame.action = action.kind;
    if (action.kind !== 'silence' && action.delayMs) await sleep(action.delayMs);
    if (action.kind === 'silence') {
      settled(frame);
      return undefined;
    }
    if (action.kind === 'close') {
      server.destroyConnection(info.connectionId);
      settled(frame);
      return undefined;
    }
    const ack = buildAck(fields?.message, fields?.message.delimiters ?? DEFAULT_DELIMITERS, {
      code: action.code,
      controlId: `ACK${frame.n}`,
      timestamp: isoToDtm(new Date(frame.at).toISOString()),
      ...(action.code === 'AA' || action.code === 'CA'
        ? {}
        : { errors: [{ code: ErrorCondition.applicationInternalError, text: action.text ?? `scripted ${action.code}` }] }),
    });
    frame.ackCode = action.code;
    // MllpServer writes the reply as soon as the handler returns; recorded here, just before.
    frame.answeredAt = performance.now();
    queueMicrotask(() => settled(frame));
    return ack;
  };

  await server.listen({
    host: '127.0.0.1',
    port: options.port ?? 0,
    maxFrameBytes: 16 * 1024 * 1024,
    handler,
    // A connection the engine dropped (kill -9) is expected; nothing to report.
    onError: () => {},
  });

  return {
    port: server.address().port,
    frames,
    get count() {
      return count;
    },
    server,
    setDelay(ms) {
      delayMs = ms;
    },
    setScript(s) {
      script = s;
    },
    waitFor(predicate, timeoutMs = 30_000) {
      if (predicate(frames)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          check: (): void => {
            if (!predicate(frames)) return;
            done();
            resolve();
          },
          cancel: (): void => {
            done();
            reject(new Error(`receiver: closed while waiting (${count} frames received)`));
          },
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`receiver: condition not met within ${timeoutMs} ms (${count} frames received)`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
      });
    },
    byFiller() {
      const map = new Map<string, ReceivedFrame[]>();
      for (const f of frames) {
        if (f.fillerId === undefined) continue;
        const list = map.get(f.fillerId);
        if (list) list.push(f);
        else map.set(f.fillerId, [f]);
      }
      return map;
    },
    async close() {
      for (const w of waiters) w.cancel();
      await server.close();
    },
  };
}
