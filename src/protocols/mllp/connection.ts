import net from 'node:net';
import tls from 'node:tls';
import { ConduitError } from '../../errors.ts';
import { MllpDecoder, type OversizeFrame } from './decoder.ts';
import { frame, type MllpEncoding } from './frame.ts';

export interface MllpClientOptions {
  readonly host: string;
  readonly port: number;
  /** Time allowed for the TCP connection and, with TLS, the handshake. */
  readonly connectTimeoutMs: number;
  /** Largest answer accepted; a longer one fails the request with MLLP_FRAME_TOO_LARGE. */
  readonly maxFrameBytes: number;
  /** node:tls options (ca, cert, key, servername, rejectUnauthorized…); plain TCP when absent. */
  readonly tls?: tls.ConnectionOptions;
  /** Encoding of payloads given as strings. Default utf-8. */
  readonly encoding?: MllpEncoding;
  /**
   * TCP keep-alive delay, so a peer that vanished (or a NAT that forgot the connection) is
   * noticed on an idle persistent connection. 0 turns keep-alive off. Default 30 s.
   */
  readonly keepAliveMs?: number;
  /** Time `close()` waits for the peer to close its side before destroying. Default 2 s. */
  readonly closeTimeoutMs?: number;
}

const DEFAULT_KEEP_ALIVE_MS = 30_000; // 30 seconds
const DEFAULT_CLOSE_TIMEOUT_MS = 2_000; // 2 seconds

interface Pending {
  readonly resolve: (frame: Buffer) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
  /** The frame has been handed to the kernel: from now on a failure is ambiguous. */
  written: boolean;
}

type Context = { host: string; port: number };

function connectError(err: NodeJS.ErrnoException, context: Context): ConduitError {
  // With autoSelectFamily (happy eyeballs) node reports an AggregateError of the attempts.
  const code = err.code ?? (err as Partial<AggregateError>).errors?.[0]?.code;
  const ctx = { ...context, errno: code };
  if (code === 'ECONNREFUSED') return new ConduitError('MLLP_CONNECT_REFUSED', undefined, { context: ctx, cause: err });
  if (code === 'ETIMEDOUT') return new ConduitError('MLLP_CONNECT_TIMEOUT', undefined, { context: ctx, cause: err });
  return new ConduitError('MLLP_CONNECT_FAILED', `connecting to the MLLP peer failed: ${code ?? err.message}`, {
    context: ctx,
    cause: err,
  });
}

/**
 * One client connection to an MLLP peer: one request at a time, each answered by the next
 * frame the peer sends. Correlating the answer with the message (MSA-2 = MSH-10) is the
 * caller's job; after an ACK timeout the connection is destroyed, so a late answer can never
 * be taken for the answer to a later request.
 *
 * Every failure is a ConduitError with an MLLP_* code.
 */
export class MllpClientConnection {
  readonly host: string;
  readonly port: number;
  private readonly socket: net.Socket;
  private readonly decoder: MllpDecoder;
  private readonly encoding: MllpEncoding;
  private readonly closeTimeoutMs: number;
  private pending: Pending | undefined;
  private open = true;
  /** Frames that arrived while no request was outstanding; they are dropped. */
  unsolicitedFrames = 0;

  /** Connects, within `connectTimeoutMs`; rejects with MLLP_CONNECT_REFUSED, _TIMEOUT, _FAILED or MLLP_ABORTED. */
  static connect(options: MllpClientOptions, signal?: AbortSignal): Promise<MllpClientConnection> {
    const context: Context = { host: options.host, port: options.port };
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new ConduitError('MLLP_ABORTED', 'aborted before connecting', { context }));
        return;
      }
      const useTls = options.tls !== undefined;
      const socket: net.Socket = useTls
        ? tls.connect({
            ...options.tls,
            host: options.host,
            port: options.port,
            // SNI must be a host name, never an IP address (RFC 6066 section 3).
            servername: options.tls?.servername ?? (net.isIP(options.host) === 0 ? options.host : undefined),
          })
        : net.connect({ host: options.host, port: options.port });
      const readyEvent = useTls ? 'secureConnect' : 'connect';
      let settled = false;
      const finish = (error?: ConduitError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off(readyEvent, onReady);
        socket.off('error', onError);
        socket.off('close', onClose);
        if (error) {
          socket.on('error', () => {}); // a late error from the discarded socket must not crash
          socket.destroy();
          reject(error);
        } else {
          resolve(new MllpClientConnection(socket, options));
        }
      };
      const timer = setTimeout(
        () => finish(new ConduitError('MLLP_CONNECT_TIMEOUT', `no connection within ${options.connectTimeoutMs} ms`, { context })),
        options.connectTimeoutMs,
      );
      const onAbort = (): void => finish(new ConduitError('MLLP_ABORTED', 'aborted while connecting', { context }));
      const onError = (err: NodeJS.ErrnoException): void => finish(connectError(err, context));
      const onClose = (): void => finish(new ConduitError('MLLP_CONNECT_FAILED', 'the socket closed while connecting', { context }));
      const onReady = (): void => finish();
      socket.once(readyEvent, onReady);
      socket.once('error', onError);
      socket.once('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private constructor(socket: net.Socket, options: MllpClientOptions) {
    this.socket = socket;
    this.host = options.host;
    this.port = options.port;
    this.encoding = options.encoding ?? 'utf-8';
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    // One small frame per request: Nagle's algorithm would only add latency.
    socket.setNoDelay(true);
    const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
    this.decoder = new MllpDecoder({
      maxFrameBytes: options.maxFrameBytes,
      onFrame: (f) => this.onFrame(f),
      onOversize: (f) => this.onOversize(f),
    });
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    socket.on('end', () => this.lost(undefined));
    socket.on('error', (err) => this.lost(err));
    socket.on('close', () => this.lost(undefined));
  }

  /** False once either side has closed or the connection failed; a closed connection is not reused. */
  get isOpen(): boolean {
    return this.open && !this.socket.destroyed;
  }

  private get context(): Context {
    return { host: this.host, port: this.port };
  }

  /**
   * Writes one frame and resolves with the payload of the next frame received. Only one
   * request may be outstanding: a concurrent call rejects at once with a plain Error (a bug
   * in the caller). The ACK timeout counts from the call, writing included.
   */
  request(payload: Buffer | string, ackTimeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    if (this.pending) {
      return Promise.reject(new Error('MllpClientConnection.request: a request is already outstanding on this connection'));
    }
    if (!this.isOpen) {
      return Promise.reject(new ConduitError('MLLP_PEER_CLOSED', 'the connection is no longer open', { context: this.context }));
    }
    if (signal?.aborted) {
      return Promise.reject(new ConduitError('MLLP_ABORTED', 'aborted before sending', { context: this.context }));
    }
    let bytes: Buffer;
    try {
      bytes = frame(payload, this.encoding);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Buffer>((resolve, reject) => {
      const p: Pending = {
        resolve,
        reject,
        signal,
        written: false,
        timer: setTimeout(() => {
          // A late answer would be taken for the answer to the next request: drop the connection.
          this.fail(new ConduitError('MLLP_ACK_TIMEOUT', `no acknowledgement within ${ackTimeoutMs} ms`, { context: this.context }));
          this.destroy();
        }, ackTimeoutMs),
        onAbort: () => {
          this.fail(new ConduitError('MLLP_ABORTED', 'aborted while waiting for the acknowledgement', { context: this.context }));
          this.destroy();
        },
      };
      this.pending = p;
      signal?.addEventListener('abort', p.onAbort, { once: true });
      this.socket.write(bytes, (err) => {
        if (err) {
          if (this.pending === p) {
            this.fail(new ConduitError('MLLP_WRITE_FAILED', undefined, { context: { ...this.context, errno: errnoOf(err) }, cause: err }));
          }
          this.destroy();
        } else {
          p.written = true;
        }
      });
    });
  }

  /** Ends the connection gracefully (FIN), destroying it if the peer has not closed within `closeTimeoutMs`. */
  async close(): Promise<void> {
    this.open = false;
    this.fail(new ConduitError('MLLP_ABORTED', 'the connection was closed locally', { context: this.context }));
    if (this.socket.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.open = false;
    this.fail(new ConduitError('MLLP_ABORTED', 'the connection was destroyed locally', { context: this.context }));
    this.socket.destroy();
  }

  private onFrame(f: Buffer): void {
    const p = this.pending;
    if (!p) {
      this.unsolicitedFrames += 1;
      return;
    }
    this.settle(p);
    p.resolve(f);
  }

  private onOversize(f: OversizeFrame): void {
    this.fail(
      new ConduitError('MLLP_FRAME_TOO_LARGE', `the answer exceeded ${this.decoder.maxFrameBytes} bytes`, {
        context: { ...this.context, byteCount: f.byteCount },
      }),
    );
  }

  /** The peer ended, reset or errored. */
  private lost(err: Error | undefined): void {
    this.open = false;
    this.decoder.end();
    const p = this.pending;
    if (!p) return;
    const context = { ...this.context, errno: errnoOf(err) };
    this.fail(
      p.written || err === undefined
        ? new ConduitError('MLLP_PEER_CLOSED', undefined, { context, cause: err })
        : new ConduitError('MLLP_WRITE_FAILED', undefined, { context, cause: err }),
    );
  }

  private fail(error: ConduitError): void {
    const p = this.pending;
    if (!p) return;
    this.settle(p);
    p.reject(error);
  }

  private settle(p: Pending): void {
    clearTimeout(p.timer);
    p.signal?.removeEventListener('abort', p.onAbort);
    this.pending = undefined;
  }
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
