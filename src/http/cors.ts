import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

/** What a browser page may use on the admin API: its methods, and the headers of a bearer token and a JSON body. */
export const CORS_ALLOW = Object.freeze({
  methods: 'GET, POST, PUT, DELETE',
  headers: 'Authorization, Content-Type',
  /** Answers a page may read besides the CORS-safelisted ones (a throttled console waits as told). */
  exposeHeaders: 'Location, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset',
  /** 10 minutes: a preflight is cached that long (Chromium caps it at 2 h anyway). */
  maxAgeSeconds: 600,
});

const ORIGIN_EXAMPLE = 'https://console.example.org';

/** One exact origin: scheme, host and port, nothing else (RFC 6454 §6.2 serialization). */
const Origin = z.string().superRefine((text, ctx) => {
  if (text === '*') {
    ctx.addIssue({
      code: 'custom',
      message: `'*' is not accepted: the admin API answers health data, so list the exact origins that may call it from a browser, e.g. ${ORIGIN_EXAMPLE}`,
    });
    return;
  }
  let origin: string | undefined;
  try {
    const url = new URL(text);
    origin = url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    origin = undefined;
  }
  if (origin !== text) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not an origin: expected scheme://host[:port] in lower case, without a default port, a path or a trailing slash, e.g. ${ORIGIN_EXAMPLE}` });
  }
});

/** `corsOrigins`: exact origins, comma-separated in a flag or variable; none by default (no CORS answer at all). */
export const CorsOrigins = z
  .union([
    z.array(z.string()),
    z.string().transform((text) =>
      text
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    ),
  ])
  .pipe(z.array(Origin));

type Next = (err?: unknown) => void;

/**
 * CORS for the configured origins only (Fetch standard, CORS protocol). A request from one
 * of them gets `Access-Control-Allow-Origin: <its origin>`; a preflight from one of them is
 * answered 204 with the methods and headers the admin API takes. Anything else passes
 * untouched, so without origins no CORS header is ever sent and a preflight is answered
 * like any OPTIONS request. No `Access-Control-Allow-Credentials`: the API authenticates
 * by a bearer header, not cookies, so a page never needs the browser's credentials.
 */
export function corsMiddleware(origins: readonly string[]): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  if (origins.length === 0) return (_req, _res, next) => next();
  const allowed = new Set(origins);
  return (req, res, next) => {
    // The answer depends on Origin whenever origins are configured: caches must keep them apart.
    res.appendHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': CORS_ALLOW.methods,
        'Access-Control-Allow-Headers': CORS_ALLOW.headers,
        'Access-Control-Max-Age': String(CORS_ALLOW.maxAgeSeconds),
        'Content-Length': '0',
      });
      res.end();
      return;
    }
    res.setHeader('Access-Control-Expose-Headers', CORS_ALLOW.exposeHeaders);
    next();
  };
}
