/** Raw HTTP/1.1 over a socket, for requests fetch cannot make: stalled bodies, oversized or malformed heads. */
import { connect, type Socket } from 'node:net';

export interface RawExchange {
  readonly socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  readonly answer: Promise<string>;
}

/** Opens a connection and writes `head` (and `body`, if any), then leaves the socket as it is. */
export function rawRequest(port: number, head: string, body?: Buffer | string): RawExchange {
  const socket = connect(port, '127.0.0.1');
  socket.write(head);
  if (body !== undefined) socket.write(body);
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      text += c;
    });
    socket.on('close', () => resolve(text));
    socket.on('error', () => {}); // a reset after the answer is fine: `close` follows
  });
  return { socket, answer };
}

/** The head of a JSON POST that promises `length` bytes. */
export function postHead(path: string, length: number, headers = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: conduit\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${headers}\r\n`;
}

/** Status code and parsed JSON body of a raw answer. */
export function parseAnswer(text: string): { status: number; headers: string; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1]);
  const split = text.indexOf('\r\n\r\n');
  const headers = text.slice(0, split);
  const rest = text.slice(split + 4);
  let body: unknown;
  try {
    body = JSON.parse(rest);
  } catch {
    body = rest;
  }
  return { status, headers, body };
}
