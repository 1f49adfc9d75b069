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
  private busy = false;
  /** The peer has sent FIN: answer what is queued, then end our side. */
  private ended = false;

  constructor(socket: net.Socket, info: MllpConnectionInfo, options: MllpServerOptions) {
    this.socket = socket;
    this.info = info;
    this.options = options;
    socket.setNoDelay(true);
    const { onGarbage } = options;
    this.decoder = new MllpDecoder({
      maxFrameBytes: options.maxFrameBytes,
      onFrame: (f) => this.queue.push({ frame: f }),
      onOversize: (f) => this.queue.push({ oversize: f }),
      onGarbage: onGarbage && ((n) => onGarbage(n, info)),
    });
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      if (this.queue.length > 0 && !this.busy) void this.run();
    });
    socket.on('end', () => {
      this.ended = true;
      this.decoder.end(); // a half frame is garbage; a cut oversize frame is queued
      if (this.busy) return;
      if (this.queue.length > 0) void this.run();
      else socket.end();
    });
    socket.on('error', (err) => options.onError?.(err, info));
    // A reset connection never sees 'end': still account for a frame cut short.
    socket.on('close', () => {
      if (!this.ended) this.decoder.end();
    });
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
          reply = 'frame' in work ? await options.handler(work.frame, info) : await options.onOversize?.(work.oversize, info);
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
    else socket.resume();
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

  async listen(options: MllpServerOptions): Promise<void> {
    if (this.server) throw new Error('MllpServer is already listening');
    const accept = (socket: net.Socket): void => this.accept(socket, options);
    // allowHalfOpen: a client may send its frames and half-close; it still gets every answer.
    const server = options.tls
      ? tls.createServer({ handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT_MS, ...options.tls, allowHalfOpen: true }, accept)
      : net.createServer({ allowHalfOpen: true }, accept);
    // Every TCP connection, TLS handshakes in progress included, so close() can drop them all.
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
    this.sessions.set(info.connectionId, new Session(socket, info, options));
    socket.on('close', () => {
      this.sessions.delete(info.connectionId);
      options.onClose?.(info);
    });
    options.onConnection?.(info);
  }
}
