import type { IncomingMessage, ServerResponse } from 'node:http';

export type RawHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Exact-path routes that sources serve on the engine's port, ahead of express: webhook
 * intake is the hot path, and plain node:http handling costs a fraction of a full express
 * stack per request. Everything else (admin API, health) goes to express.
 */
export class SourceRoutes {
  private readonly routes = new Map<string, RawHandler>();

  /** Serves every method on `path`; the handler answers 405 for the ones it does not take. */
  add(path: string, handler: RawHandler): void {
    if (this.routes.has(path)) throw new Error(`route ${path} is already served`);
    this.routes.set(path, handler);
  }

  remove(path: string): void {
    this.routes.delete(path);
  }

  match(req: IncomingMessage): RawHandler | undefined {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    return this.routes.get(q === -1 ? url : url.slice(0, q));
  }
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Reads a request body up to `limit` bytes; a larger one rejects without buffering the rest. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume();
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
