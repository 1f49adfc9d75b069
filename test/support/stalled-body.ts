import { connect } from 'node:net';

/**
 * POSTs headers that promise a 100,000-byte JSON body, sends one byte of it and waits: the raw
 * answer the engine gives before the body (a refusal that must not wait for it), once it closes.
 */
export function postWithStalledBody(url: string, path: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      text += c;
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}
