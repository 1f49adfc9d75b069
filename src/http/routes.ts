import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyReader } from './body.ts';

export type RawHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Routes that sources serve on the engine's port, looked up by the first middleware of the
 * engine's express app (admin API and health come after): channels add and remove them as they
 * start and stop, which an express router cannot do.
 *
 * Exact paths are looked up first, in one map read; prefix routes (`/channels/x/submissions/`
 * for `GET …/submissions/<id>`) are tried only when no exact path matches.
 */
export class SourceRoutes {
  private readonly routes = new Map<string, RawHandler>();
  /** Prefix (ending in '/') → handler; few, so a scan is fine. */
  private readonly prefixes = new Map<string, RawHandler>();
  /** Reads request bodies within the port's budget of bytes in flight; shared by every route. */
  readonly bodies: BodyReader;

  constructor(bodies: BodyReader = new BodyReader()) {
    this.bodies = bodies;
  }

  /** Serves every method on `path`; the handler answers 405 for the ones it does not take. */
  add(path: string, handler: RawHandler): void {
    if (this.routes.has(path)) throw new Error(`route ${path} is already served`);
    this.routes.set(path, handler);
  }

  /**
   * Serves every path under `prefix` (which must end in '/'), e.g. `/channels/x/submissions/`
   * for `/channels/x/submissions/<id>`; the handler reads the rest of the path itself.
   */
  addPrefix(prefix: string, handler: RawHandler): void {
    if (!prefix.endsWith('/')) throw new Error(`route prefix ${prefix} must end in /`);
    if (this.prefixes.has(prefix)) throw new Error(`route prefix ${prefix} is already served`);
    this.prefixes.set(prefix, handler);
  }

  /** Stops serving `path`, as an exact path or as a prefix. */
  remove(path: string): void {
    this.routes.delete(path);
    this.prefixes.delete(path);
  }

  match(req: IncomingMessage): RawHandler | undefined {
    const path = pathOf(req);
    const exact = this.routes.get(path);
    if (exact || this.prefixes.size === 0) return exact;
    let best: string | undefined;
    // The longest prefix wins, so a nested route is not shadowed by its parent.
    for (const p of this.prefixes.keys()) if (path.startsWith(p) && path.length > p.length && (!best || p.length > best.length)) best = p;
    return best === undefined ? undefined : this.prefixes.get(best);
  }
}

/** The path of a request, without the query string. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Writes a JSON answer to a source's request. One given before the body was read whole
 * closes the connection: the rest of the body may still be arriving, so the connection
 * cannot be reused for the next request.
 */
export function answerRequest(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (!req.complete) {
    res.shouldKeepAlive = false;
    req.resume();
  }
  sendJson(res, status, body, headers);
}
