/**
 * A webhook receiver for alert notifications on 127.0.0.1, port 0: it checks each request's
 * signature as a Conduit webhook source with `hmac: {secret, timestamp: {}}` does
 * (sources/webhook/signature.ts), records the request, and answers with the status the script
 * gives for the n-th request (204 by default). Bodies are read with the payload's schema.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlertPayload } from '../../src/alerts/view.ts';
import { WebhookSourceConfig } from '../../src/sources/webhook/config.ts';
import { WebhookSignatures } from '../../src/sources/webhook/signature.ts';

export interface ReceivedNotification {
  readonly n: number;
  readonly headers: IncomingMessage['headers'];
  readonly raw: string;
  readonly payload: AlertPayload;
  /** undefined when the signature verified; else why not. */
  readonly refused: string | undefined;
  readonly status: number;
}

export interface AlertReceiver {
  readonly url: string;
  readonly received: ReceivedNotification[];
  /** Resolves once `predicate(received)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (received: readonly ReceivedNotification[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startAlertReceiver(secret: string, script: (n: number) => number = () => 204): Promise<AlertReceiver> {
  const received: ReceivedNotification[] = [];
  const waiters = new Set<() => void>();
  const hmac = WebhookSourceConfig.parse({ hmac: { secret, timestamp: {} } }).hmac!;
  const signatures = new WebhookSignatures(hmac);
  const server = createServer((req, res) => {
    let check: ReturnType<WebhookSignatures['begin']> | undefined;
    let refused: string | undefined;
    try {
      check = signatures.begin(req);
    } catch (e) {
      refused = (e as Error).message;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      check?.update(c);
    });
    req.on('end', () => {
      try {
        check?.finish();
      } catch (e) {
        refused = (e as Error).message;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const status = script(received.length + 1);
      // Strict: a field the schema does not name (anything of a message) fails the test.
      received.push({ n: received.length + 1, headers: req.headers, raw, payload: AlertPayload.strict().parse(JSON.parse(raw)), refused, status });
      res.writeHead(status).end();
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    received,
    waitFor(predicate, timeoutMs = 20_000) {
      if (predicate(received)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`alert receiver: condition not met within ${timeoutMs} ms (${received.length} received)`));
        }, timeoutMs);
        const check = () => {
          if (!predicate(received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
