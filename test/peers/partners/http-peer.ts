import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { applyScripted, type Script } from '../fhir-server/script.ts';

/**
 * What the partner peers share: a node:http server on loopback (port 0 unless told), every
 * request recorded with what it was answered, scripted failures ahead of the real handler
 * (the `Script` of the FHIR server peer: an answer, 'drop', 'hang' or 'pass'), and JSON
 * error answers thrown as `PeerError`.
 */

export interface RecordedRequest {
  readonly index: number;
  readonly method: string;
  /** Path and query as received. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  readonly json?: unknown;
  /** Status answered (0 for a dropped or hung request). */
  status: number;
  /** What was answered (parsed JSON, or text). */
  answer?: unknown;
}

export interface PeerRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Path parameters of the matched route. */
  readonly params: Readonly<Record<string, string>>;
}

export interface PeerAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An error answer: thrown anywhere in a handler. */
export class PeerError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

export interface Route {
  readonly method: string;
  /** `/patients/:id`: `:name` segments become params. */
  readonly pattern: string;
  handle(req: PeerRequest): PeerAnswer | Promise<PeerAnswer>;
}

export interface HttpPeer {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Decides, before the routes, what happens to each request. */
  script(fn: Script | undefined): void;
  close(): Promise<void>;
}

function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.startsWith(':')) params[p[i]!.slice(1)] = decodeURIComponent(s[i]!);
    else if (p[i] !== s[i]) return undefined;
  }
  return params;
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function tryJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Starts a peer serving `routes`; 404 for any other path, 405 for another method on a known one. */
export async function startHttpPeer(
  routes: readonly Route[],
  options: { port?: number; errorContentType?: string; notFound?: (path: string) => unknown; tls?: HttpsOptions } = {},
): Promise<HttpPeer> {
  const requests: RecordedRequest[] = [];
  let script: Script | undefined;
  const contentType = 'application/json';
  const errorContentType = options.errorContentType ?? contentType;

  const answer = (res: ServerResponse, record: RecordedRequest, a: PeerAnswer) => {
    const text = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
    record.status = a.status;
    record.answer = a.body;
    res.writeHead(a.status, { ...(text === '' ? {} : { 'content-type': a.status >= 400 ? errorContentType : contentType }), ...a.headers });
    res.end(text);
  };

  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBytes(req);
    const url = new URL(req.url ?? '/', 'http://peer.invalid');
    const record: RecordedRequest = { index: requests.length, method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, json: tryJson(body), status: 0 };
    requests.push(record);
    try {
      const scripted = await script?.({ index: record.index, method: record.method, path: record.path, headers: req.headers, body: body.toString('utf8') });
      if (applyScripted(scripted, req, res, contentType)) {
        if (scripted !== undefined && typeof scripted === 'object') {
          record.status = scripted.status;
          record.answer = scripted.body;
        }
        return;
      }
      const candidates = routes.map((r) => ({ r, params: match(r.pattern, url.pathname) })).filter((c) => c.params !== undefined);
      if (candidates.length === 0) throw new PeerError(404, options.notFound?.(url.pathname) ?? { error: 'NOT_FOUND', message: `no route ${url.pathname}` });
      const route = candidates.find((c) => c.r.method === record.method);
      if (!route) throw new PeerError(405, { error: 'METHOD_NOT_ALLOWED', message: `${record.method} is not allowed on ${url.pathname}` }, { allow: candidates.map((c) => c.r.method).join(', ') });
      answer(res, record, await route.r.handle({ method: record.method, url, headers: req.headers, body, params: route.params! }));
    } catch (err) {
      if (err instanceof PeerError) answer(res, record, { status: err.status, body: err.body, headers: err.headers });
      else answer(res, record, { status: 500, body: { error: 'INTERNAL', message: (err as Error).message } });
    }
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    script: (fn) => {
      script = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The JSON body of a request, or a 4xx thrown: 415 when it is not JSON, 400 when it does not parse. */
export function jsonBody(req: PeerRequest, invalid: (message: string) => unknown): unknown {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new PeerError(415, invalid(`expected Content-Type: application/json, got '${type || '(none)'}'`));
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch (e) {
    throw new PeerError(400, invalid(`the body is not valid JSON: ${(e as Error).message}`));
  }
}

/** zod issues as `{ field, message }`, the way the peers list validation errors. */
export function fieldErrors(error: z.ZodError): Array<{ field: string; message: string }> {
  return error.issues.map((i) => ({
    field: i.path.length === 0 ? '(body)' : i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '['),
    message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
  }));
}

/** Whether `text` is base64 that decodes to a PDF (`%PDF-` magic number). */
export function isPdfBase64(text: string): boolean {
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(text) || text.length === 0) return false;
  return Buffer.from(text, 'base64').subarray(0, 5).toString('latin1') === '%PDF-';
}

/** A small, well-formed one-page PDF saying `text`, for reports the peers make. */
export function tinyPdf(text: string): Buffer {
  const safe = text.replace(/[()\\]/g, '');
  const stream = `BT /F1 12 Tf 72 720 Td (${safe}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

export interface FormPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

/**
 * Parses a multipart/form-data body (RFC 7578), strictly: the boundary from the Content-Type,
 * every part with a Content-Disposition `form-data; name="…"`, CRLF line breaks, a closing
 * delimiter. Throws an Error saying what is wrong.
 */
export function parseMultipart(contentType: string | undefined, body: Buffer): FormPart[] {
  const m = /^multipart\/form-data\s*;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  if (!m) throw new Error(`expected Content-Type: multipart/form-data; boundary=…, got '${contentType ?? '(none)'}'`);
  const boundary = m[1] ?? m[2]!;
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  if (at !== 0) throw new Error('the body does not start with the boundary delimiter');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString('latin1') === '--') break;
    if (body.subarray(at, at + 2).toString('latin1') !== '\r\n') throw new Error('expected CRLF after a boundary delimiter');
    at += 2;
    const headEnd = body.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0) throw new Error('a part has no blank line after its headers');
    const headers = body.subarray(at, headEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delimiter]), headEnd + 4);
    if (next < 0) throw new Error('a part is not closed by the boundary delimiter');
    const data = body.subarray(headEnd + 4, next);
    const disposition = headers.find((h) => /^content-disposition:/i.test(h));
    const name = disposition && /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (!disposition || !/^content-disposition:\s*form-data\s*;/i.test(disposition) || name === undefined || name === null) {
      throw new Error('a part lacks Content-Disposition: form-data; name="…"');
    }
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    const type = headers.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, '');
    parts.push({ name, ...(filename === undefined ? {} : { filename }), ...(type === undefined ? {} : { contentType: type }), data });
    at = next + 2;
  }
  return parts;
}
