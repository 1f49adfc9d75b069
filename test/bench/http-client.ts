/**
 * The bench's HTTP/1.1 client: keep-alive sockets, one request outstanding on each, a request
 * written in one `write`, the answer's status and Content-Length read from its head. It shares
 * two cores with the engine it measures, so it does no more than that: on this machine Node's
 * `http.request` cost the load generator about 0.3 ms of CPU per request, CPU the engine then
 * did not have. Answers without a Content-Length (chunked) are refused as errors: the engine
 * always sends one.
 */
import { connect, type Socket } from 'node:net';

export interface HttpAnswer {
  status: number;
  body: string;
}

interface Waiting {
  resolve(answer: HttpAnswer): void;
  reject(error: Error): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

/** One keep-alive connection; `request` may only be called again once the previous answer came. */
class Connection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: Waiting | undefined;
  closed = false;

  constructor(host: string, port: number, onClose: (c: Connection) => void) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    const fail = (e: Error): void => {
      this.closed = true;
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(e);
      onClose(this);
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('the engine closed the connection')));
  }

  request(bytes: Buffer): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      // A write on a destroyed socket fails without an 'error' event: the answer would never come.
      if (this.closed) {
        reject(new Error('the engine closed the connection'));
        return;
      }
      this.waiting = { resolve, reject };
      this.socket.write(bytes);
    });
  }

  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headEnd);
    const length = CONTENT_LENGTH.exec(head);
    if (!length) {
      this.socket.destroy(new Error(`an answer without Content-Length: ${head.split('\r\n', 1)[0]}`));
      return;
    }
    const end = headEnd + HEAD_END.length + Number(length[1]);
    if (this.buffered.length < end) return;
    const answer = { status: Number(head.slice(9, 12)), body: this.buffered.toString('utf8', headEnd + HEAD_END.length, end) };
    this.buffered = this.buffered.subarray(end);
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(answer);
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/** POSTs to one path over at most `sockets` keep-alive connections; requests beyond them wait their turn. */
export class BenchHttpClient {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Array<(c: Connection) => void> = [];
  private readonly host: string;
  private readonly port: number;
  private readonly head: string;
  private readonly sockets: number;

  constructor(url: string, path: string, sockets: number, contentType: string) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.sockets = sockets;
    this.head = `POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: ${contentType}\r\nContent-Length: `;
  }

  async post(body: Buffer): Promise<HttpAnswer> {
    const c = await this.connection();
    const bytes = Buffer.concat([Buffer.from(`${this.head}${body.length}\r\n\r\n`, 'latin1'), body]);
    try {
      return await c.request(bytes);
    } finally {
      this.release(c);
    }
  }

  close(): void {
    for (const c of this.all) c.close();
  }

  private connection(): Promise<Connection> {
    // An idle connection the engine closed (its keep-alive timeout) is dropped, not reused.
    let c = this.idle.pop();
    while (c?.closed) c = this.idle.pop();
    if (c) return Promise.resolve(c);
    if (this.all.size < this.sockets) {
      const fresh = new Connection(this.host, this.port, (gone) => this.all.delete(gone));
      this.all.add(fresh);
      return Promise.resolve(fresh);
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(c: Connection): void {
    if (c.closed) {
      // Its place goes to the next waiting request, on a new connection.
      const next = this.queue.shift();
      if (next) void this.connection().then(next);
      return;
    }
    const next = this.queue.shift();
    if (next) next(c);
    else this.idle.push(c);
  }
}
