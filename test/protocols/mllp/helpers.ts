import { readFileSync } from 'node:fs';
import net from 'node:net';
import { type Logger, pino } from 'pino';
import { type AckCode, buildAck, Hl7Message } from '../../../src/protocols/hl7v2/index.ts';
import { type MllpConnectionInfo, MllpDecoder, type MllpReply, MllpServer } from '../../../src/protocols/mllp/index.ts';
import type { OutboundMessage } from '../../../src/senders/types.ts';

const ORU = readFileSync(new URL('./fixtures/oru-r01.hl7', import.meta.url), 'latin1');

/** The sample ORU^R01 with MSH-10 set to `controlId`. */
export function oru(controlId: string): string {
  const m = Hl7Message.parse(ORU);
  m.msh.setRaw(10, controlId);
  return m.toString();
}

/** An acknowledgement of `frame` (an HL7 message) with `code`; MSA-2 replaced when `msa2` is given. */
export function ackFor(frame: Buffer | string, code: AckCode, options: { msa2?: string; text?: string } = {}): string {
  const message = Hl7Message.parse(frame.toString());
  const ack = buildAck(message, message.delimiters, {
    code,
    controlId: `ACK-${message.controlId}`,
    timestamp: '20250101120001',
    ...(options.text ? { errors: [{ code: '207', text: options.text }] } : {}),
  });
  if (options.msa2 === undefined) return ack;
  const parsed = Hl7Message.parse(ack);
  parsed.segment('MSA')!.setRaw(2, options.msa2);
  return parsed.toString();
}

/** MSH-10 of a frame. */
export function controlIdOf(frame: Buffer | string): string {
  return Hl7Message.parse(frame.toString()).controlId;
}

/** A plain socket client that collects the frames it receives. */
export class RawClient {
  readonly socket: net.Socket;
  readonly frames: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    const decoder = new MllpDecoder({ maxFrameBytes: 64 * 1024 * 1024, onFrame: (f) => this.frames.push(Buffer.from(f)) });
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** Resolves once `count` frames have arrived; rejects if the socket closes first. */
  async waitFrames(count: number): Promise<Buffer[]> {
    while (this.frames.length < count) {
      if (this.closed) throw new Error(`socket closed after ${this.frames.length} of ${count} frames`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.frames.slice(0, count);
  }

  /** Resolves when the peer has closed the connection. */
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Polls `condition` every few ms until it holds, failing after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** What a scripted peer does with one incoming message. */
export type Step =
  /** Answer with this acknowledgement code. */
  | AckCode
  /** Read the message and never answer. */
  | 'silence'
  /** Answer AA for another control id. */
  | 'wrong-id'
  /** Read the message, then drop the connection without answering. */
  | 'close'
  /** Answer with a frame that is not HL7. */
  | 'garbage';

/**
 * An MLLP peer built on our MllpServer that does what its script says, one step per message
 * received (AA once the script runs out), like Camel's MllpServerResource.
 */
export class ScriptedPeer {
  readonly server = new MllpServer();
  readonly steps: Step[];
  /** MSH-10 of every message received, in order. */
  readonly received: string[] = [];
  connectionsAccepted = 0;
  closedConnections = 0;
  port = 0;

  private constructor(steps: Step[]) {
    this.steps = [...steps];
  }

  static async start(steps: Step[] = [], port = 0): Promise<ScriptedPeer> {
    const peer = new ScriptedPeer(steps);
    await peer.listen(port);
    return peer;
  }

  async listen(port = this.port): Promise<void> {
    await this.server.listen({
      host: '127.0.0.1',
      port,
      maxFrameBytes: 1024 * 1024,
      onConnection: () => (this.connectionsAccepted += 1),
      onClose: () => (this.closedConnections += 1),
      handler: async (frame: Buffer, info: MllpConnectionInfo): Promise<MllpReply> => {
        this.received.push(controlIdOf(frame));
        const step = this.steps.shift() ?? 'AA';
        switch (step) {
          case 'silence':
            return undefined;
          case 'close':
            this.server.destroyConnection(info.connectionId);
            return undefined;
          case 'wrong-id':
            return ackFor(frame, 'AA', { msa2: 'SOMETHING-ELSE' });
          case 'garbage':
            return 'this is not HL7';
          default:
            return ackFor(frame, step, step === 'AA' || step === 'CA' ? {} : { text: `scripted ${step}` });
        }
      },
    });
    this.port = this.server.address().port;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** One outbound message carrying the sample ORU with MSH-10 = `controlId`. */
export function outbound(controlId: string, attempt = 1): OutboundMessage {
  return {
    messageId: `msg-${controlId}`,
    destinationId: 'lis',
    payload: oru(controlId),
    contentType: 'application/hl7-v2+er7',
    controlId,
    attempt,
  };
}

/** A pino logger writing into an array, to check what gets logged. */
export function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
  return { log, lines };
}
