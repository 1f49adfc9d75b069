/**
 * A pass-through HTTP proxy on 127.0.0.1 (port 0) in front of a FHIR server, telling the
 * benchmark when each request was answered (the FHIR peer records requests, not answer times).
 * Requests and answers are forwarded as they are; `onAnswered` gets the request body, the
 * answer (status and body) and performance.now() just before the answer is written back.
 *
 * Without an upstream it is an instant FHIR server instead (the FHIR twin of the instant-ACK
 * LIS): every transaction or batch is answered at once with a response Bundle whose entries
 * are all `201 Created`, so the figures are the engine's, not the FHIR server's.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { now } from './measure.ts';

export interface RecordingProxy {
  /** The upstream base URL's path on this proxy, e.g. http://127.0.0.1:40123/fhir/R4 */
  readonly baseUrl: string;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The answer of an instant FHIR server to a transaction or batch Bundle. */
function instantAnswer(body: Buffer): { status: number; headers: http.IncomingHttpHeaders; body: Buffer } {
  const bundle = JSON.parse(body.toString('utf8')) as { type?: string; entry?: unknown[] };
  const answer = { resourceType: 'Bundle', type: `${bundle.type}-response`, entry: (bundle.entry ?? []).map(() => ({ response: { status: '201 Created' } })) };
  return { status: 200, headers: { 'content-type': 'application/fhir+json' }, body: Buffer.from(JSON.stringify(answer)) };
}

export async function startRecordingProxy(
  upstreamBaseUrl: string | undefined,
  onAnswered: (requestBody: string, status: number, answerBody: string, at: number) => void,
): Promise<RecordingProxy> {
  const upstream = new URL(upstreamBaseUrl ?? 'http://127.0.0.1/fhir/R4');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const headersOf = (h: http.IncomingHttpHeaders): Record<string, string | string[]> => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    return out;
  };
  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const answer = upstreamBaseUrl === undefined ? instantAnswer(body) : await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const up = http.request(
          { agent, hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...headersOf(req.headers), 'content-length': body.length } },
          (r) => {
            readAll(r).then((b) => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: b }), reject);
          },
        );
        up.on('error', reject);
        up.end(body);
      });
      onAnswered(body.toString('utf8'), answer.status, answer.body.toString('utf8'), now());
      res.writeHead(answer.status, { ...headersOf(answer.headers), 'content-length': answer.body.length });
      res.end(answer.body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${upstream.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
