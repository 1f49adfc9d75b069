/**
 * A status-callback receiver on 127.0.0.1, port 0: records every POST with its raw body and
 * headers, checks the HMAC-SHA256 signature when given a secret, and answers what the script
 * says for the n-th request (200 by default), like undici's retry tests script their server.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  readonly n: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly event: Record<string, unknown>;
  /** Whether the signature header verified (undefined without a secret). */
  readonly signatureOk: boolean | undefined;
  /** The status answered. */
  readonly answered: number;
}

export interface CallbackReceiver {
  readonly url: string;
  readonly received: ReceivedCallback[];
  /** Requests with a 2xx answer: the events delivered. */
  delivered(): ReceivedCallback[];
  /** Resolves once `count` requests matching `filter` have arrived. */
  waitFor(count: number, filter?: (r: ReceivedCallback) => boolean, timeoutMs?: number): Promise<ReceivedCallback[]>;
  close(): Promise<void>;
}

export async function startCallbackReceiver(opts: { secret?: string; header?: string; script?: (n: number) => number } = {}): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  const header = (opts.header ?? 'X-Conduit-Signature').toLowerCase();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const n = received.length + 1;
      let signatureOk: boolean | undefined;
      if (opts.secret) {
        const given = String(req.headers[header] ?? '');
        const expected = `sha256=${createHmac('sha256', opts.secret).update(raw).digest('hex')}`;
        signatureOk = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      }
      const status = signatureOk === false ? 401 : (opts.script?.(n) ?? 200);
      received.push({ n, headers: req.headers, body: raw.toString('utf8'), event: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, signatureOk, answered: status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status < 300 ? '{"ok":true}' : '{"error":"scripted failure"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/conduit/status`;
  return {
    url,
    received,
    delivered: () => received.filter((r) => r.answered < 300),
    async waitFor(count, filter = () => true, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.filter(filter);
        if (found.length >= count) return found;
        if (Date.now() > deadline) throw new Error(`${found.length} of ${count} callbacks after ${timeoutMs} ms: ${JSON.stringify(received.map((r) => r.event))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
