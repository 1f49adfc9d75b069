import type { AddressInfo } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { MllpDecoder, type OversizeFrame } from './decoder.ts';
import { frame, type MllpEncoding } from './frame.ts';

export interface MllpConnectionInfo {
  /** Unique per server instance, counting from 1. */
  readonly connectionId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** What to send back for one frame; `undefined` sends nothing. */
export type MllpReply = Buffer | string | undefined;

/** Handles one frame (payload without VT/FS/CR). Frames of one connection are handled one at a time, in order. */
export type MllpHandler = (frame: Buffer, info: MllpConnectionInfo) => Promise<MllpReply>;

export interface MllpServerOptions {
  readonly host: string;
  /** 0 picks a free port; read it back with `address()`. */
  readonly port: number;
  /** node:tls server options (key, cert, ca, requestCert…); plain TCP when absent. */
  readonly tls?: tls.TlsOptions;
  /** Largest payload accepted; a longer frame is dropped as it arrives and reported to `onOversize`. */
  readonly maxFrameBytes: number;
  readonly handler: MllpHandler;
  /** Encoding of replies given as strings. Default utf-8. */
  readonly encoding?: MllpEncoding;
  /**
   * A frame over `maxFrameBytes`, in its place in the order of frames; the reply (an AE built
   * from `frame.head`, say) is sent like a handler's. The connection stays open. Default: silence.
   */
  readonly onOversize?: (frame: OversizeFrame, info: MllpConnectionInfo) => MllpReply | Promise<MllpReply>;
  /** Bytes outside any frame, or of a frame cut short. */
  readonly onGarbage?: (byteCount: number, info: MllpConnectionInfo) => void;
  /**
   * A handler that threw (the connection is then destroyed), a reply that could not be framed,
   * a socket error on one connection, or (without `info`) a server or TLS handshake error.
   */
  readonly onError?: (error: unknown, info: MllpConnectionInfo | undefined) => void;
  readonly onConnection?: (info: MllpConnectionInfo) => void;
  readonly onClose?: (info: MllpConnectionInfo) => void;
  /**
   * A frame that has begun and then receives no byte for this long is dropped with its
   * connection. 0 turns it off. Default 10 s (Camel's MLLP `readTimeout` plays this part).
   */
  readonly frameTimeoutMs?: number;
  /** A connection with no byte at all for this long, between frames, is closed. 0 (default) keeps idle connections open. */
  readonly idleTimeoutMs?: number;
  /**
   * Payload bytes held across all connections (frames in progress and frames waiting for the
   * handler). When a chunk would go over it, the connection holding the most (not busy with a
   * frame it is handling) is dropped. Default: `maxFrameBytes` + 4 MiB, at least 16 MiB.
   */
  readonly maxBufferedBytes?: number;
  /** Open connections at most; more are refused as they connect. Default 0: no limit. */
  readonly maxConnections?: number;
  /** A connection dropped by one of the limits above. */
  readonly onLimit?: (limit: MllpLimit, info: MllpConnectionInfo) => void;
}

/** Why a connection was dropped: a stalled frame, an idle connection, or the bytes buffered across connections. */
export interface MllpLimit {
  readonly kind: 'frame-timeout' | 'idle-timeout' | 'buffer-budget';
  /** Payload bytes the connection held when it was dropped. */
  readonly bufferedBytes: number;
}

const DEFAULT_FRAME_TIMEOUT_MS = 10_000; // 10 seconds
// One frame of the largest size plus room for the others: sized so that 40 connections each
// holding an unterminated 15 MB frame keep the engine under 300 MB (test/engine/abuse-memory.test.ts).
const MIN_BUFFER_BUDGET = 16 * 1_048_576; // 16 MiB
const BUFFER_HEADROOM = 4 * 1_048_576; // 4 MiB

/** Bytes held by all the sessions of one server. */
class BufferBudget {
  readonly max: number;
  held = 0;
  constructor(max: number) {
    this.max = max;
  }
}

/**
 * A TLS client that stalls or abandons its handshake is dropped after this long (node's
 * default is 120 s; with allowHalfOpen such a socket would otherwise linger that long).
 * `tls.handshakeTimeout` overrides it.
 */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000; // 10 seconds

/** One accepted connection: decodes frames into a queue and works through it one frame at a time. */
class Session {
  readonly info: MllpConnectionInfo;
  readonly socket: net.Socket;
  private readonly options: MllpServerOptions;
  private readonly decoder: MllpDecoder;
  private readonly queue: Array<{ frame: Buffer } | { oversize: OversizeFrame }> = [];
  busy = false;
  /** The peer has sent FIN: answer what is queued, then end our side. */
  private ended = false;
  /** Payload bytes of queued frames, not yet handled. */
  private queuedBytes = 0;
  /** Payload bytes this session counts in the budget now. */
  held = 0;
  private readonly budget: BufferBudget;
  private readonly evict: (self: Session, bytes: number) => boolean;
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;

  constructor(
    socket: net.Socket,
    info: MllpConnectionInfo,
    options: MllpServerOptions,
    budget: BufferBudget,
    evict: (self: Session, bytes: number) => boolean,
  ) {
    this.socket = socket;
    this.info = info;
    this.options = options;
    this.budget = budget;
    this.evict = evict;
    socket.setNoDelay(true);
    const { onGarbage } = options;
    this.decoder = new MllpDecoder({
      maxFrameBytes: options.maxFrameBytes,
      onFrame: (f) => {
        this.queuedBytes += f.length;
        this.queue.push({ frame: f });
      },
      onOversize: (f) => this.queue.push({ oversize: f }),
      onGarbage: onGarbage && ((n) => onGarbage(n, info)),
    });
    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed || !this.evict(this, chunk.length)) return;
      this.decoder.push(chunk);
      this.account();
      this.arm();
      if (this.queue.length > 0 && !this.busy) void this.run();
    });
    socket.on('end', () => {
      this.ended = true;
      this.decoder.end(); // a half frame is garbage; a cut oversize frame is queued
      this.account();
      if (this.busy) return;
      if (this.queue.length > 0) void this.run();
      else socket.end();
    });
    socket.on('error', (err) => options.onError?.(err, info));
    // A reset connection never sees 'end': still account for a frame cut short.
    socket.on('close', () => {
      clearTimeout(this.timer);
      if (!this.ended) this.decoder.end();
      this.decoder.reset();
      this.queue.length = 0;
      this.queuedBytes = 0;
      this.account();
    });
    this.arm();
  }

  /** Brings this session's share of the budget up to date. */
  private account(): void {
    const held = this.decoder.bufferedBytes + this.queuedBytes;
    this.budget.held += held - this.held;
    this.held = held;
  }

  /** Drops the connection for a limit; the peer sees it close before any ACK and sends the message again. */
  dropFor(kind: MllpLimit['kind']): void {
    const bufferedBytes = this.held;
    this.socket.destroy();
    this.decoder.reset();
    this.account();
    this.options.onLimit?.({ kind, bufferedBytes }, this.info);
  }

  /** (Re)starts the timer of the state the connection is in: inside a frame, or idle between frames. */
  private arm(): void {
    const ms = this.decoder.inFrame ? (this.options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS) : (this.options.idleTimeoutMs ?? 0);
    if (this.timer && ms === this.timerMs) {
      this.timer.refresh();
      return;
    }
    clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = ms > 0 ? setTimeout(() => this.timedOut(), ms) : undefined;
  }

  private timedOut(): void {
    this.timer = undefined;
    if (this.socket.destroyed) return;
    // Reading is paused while a frame is handled (the backlog may be over its bound): the
    // silence is ours, not the peer's.
    if (this.busy) {
      this.arm();
      return;
    }
    this.dropFor(this.decoder.inFrame ? 'frame-timeout' : 'idle-timeout');
  }

  /**
   * Works through the queue. Reading is paused meanwhile, so a client pipelining thousands of
   * frames is held back by TCP flow control instead of filling memory; replies go out in order.
   */
  private async run(): Promise<void> {
    const { socket, info, options } = this;
    this.busy = true;
    socket.pause();
    try {
      while (this.queue.length > 0 && !socket.destroyed) {
        const work = this.queue.shift()!;
        let reply: MllpReply;
        try {
          if ('frame' in work) {
            try {
              reply = await options.handler(work.frame, info);
            } finally {
              this.queuedBytes -= work.frame.length;
              this.account();
            }
          } else {
            reply = await options.onOversize?.(work.oversize, info);
          }
          if (reply !== undefined && !socket.destroyed) {
            if (!socket.write(frame(reply, options.encoding))) await drained(socket);
          }
        } catch (err) {
          options.onError?.(err, info);
          socket.destroy();
          return;
        }
      }
    } finally {
      this.busy = false;
    }
    if (socket.destroyed) return;
    if (this.ended) socket.end();
    else {
      socket.resume();
      this.arm();
    }
  }
}

/** Resolves when the socket can take more writes, or is gone. */
function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/**
 * An MLLP listener (HL7 v2.5.1 Appendix C). Knows nothing of HL7: each frame goes to the
 * handler, and whatever the handler returns is framed and sent back.
 */
export class MllpServer {
  private server: net.Server | undefined;
  private readonly sessions = new Map<number, Session>();
  private readonly sockets = new Set<net.Socket>();
  private nextConnectionId = 0;
  private budget = new BufferBudget(MIN_BUFFER_BUDGET);

  /** Payload bytes held now across the open connections. */
  get bufferedBytes(): number {
    return this.budget.held;
  }

  async listen(options: MllpServerOptions): Promise<void> {
    if (this.server) throw new Error('MllpServer is already listening');
    this.budget = new BufferBudget(options.maxBufferedBytes ?? Math.max(MIN_BUFFER_BUDGET, options.maxFrameBytes + BUFFER_HEADROOM));
    const accept = (socket: net.Socket): void => this.accept(socket, options);
    // allowHalfOpen: a client may send its frames and half-close; it still gets every answer.
    const server = options.tls
      ? tls.createServer({ handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT_MS, ...options.tls, allowHalfOpen: true }, accept)
      : net.createServer({ allowHalfOpen: true }, accept);
    // Every TCP connection, TLS handshakes in progress included, so close() can drop them all.
    if (options.maxConnections) server.maxConnections = options.maxConnections;
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    if (options.tls) {
      server.on('tlsClientError', (err, socket) => {
        // With allowHalfOpen, a socket whose handshake failed would otherwise stay half open.
        socket.destroy();
        options.onError?.(err, undefined);
      });
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host, port: options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => options.onError?.(err, undefined));
    this.server = server;
  }

  /** The bound address and port. */
  address(): AddressInfo {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('MllpServer is not listening');
    return address;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  connections(): MllpConnectionInfo[] {
    return [...this.sessions.values()].map((s) => s.info);
  }

  /** Drops one connection at once; false if it is not open. */
  destroyConnection(connectionId: number): boolean {
    const session = this.sessions.get(connectionId);
    if (!session) return false;
    session.socket.destroy();
    return true;
  }

  /**
   * Makes room in the budget for `bytes` more of `self`'s: drops the connections holding the
   * most (never one busy with a frame it is handling, whose answer is on its way) until they
   * fit. False when `self` was the one to go.
   */
  private readonly makeRoom = (self: Session, bytes: number): boolean => {
    const budget = this.budget;
    while (budget.held + bytes > budget.max) {
      let largest = self;
      let largestHeld = self.held + bytes;
      for (const s of this.sessions.values()) {
        if (s !== self && !s.busy && !s.socket.destroyed && s.held > largestHeld) {
          largest = s;
          largestHeld = s.held;
        }
      }
      largest.dropFor('buffer-budget');
      if (largest === self) return false;
    }
    return true;
  };

  /** Stops listening and destroys every open connection. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      for (const session of this.sessions.values()) session.socket.destroy();
    });
  }

  private accept(socket: net.Socket, options: MllpServerOptions): void {
    this.nextConnectionId += 1;
    const info: MllpConnectionInfo = Object.freeze({
      connectionId: this.nextConnectionId,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
    });
    this.sessions.set(info.connectionId, new Session(socket, info, options, this.budget, this.makeRoom));
    socket.on('close', () => {
      this.sessions.delete(info.connectionId);
      options.onClose?.(info);
    });
    options.onConnection?.(info);
  }
}
