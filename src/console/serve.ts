import { join } from 'node:path';
import express, { type Router } from 'express';

/** The console's files: plain HTML, CSS and ES modules, served as they are (no build step). */
export const CONSOLE_DIR = join(import.meta.dirname, 'public');

/**
 * Scripts and styles from this origin only, no inline code, no framing: the pages hold health
 * data once signed in. The files themselves hold none (everything comes from the admin API with
 * the token), so they need no token.
 */
const HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** The web console at `/` (index.html) and its files under `/console/`. */
export function consoleRouter(): Router {
  const r = express.Router();
  const headers = (res: express.Response) => res.set(HEADERS);
  r.get('/', (_req, res) => {
    headers(res);
    res.set('Cache-Control', 'no-cache');
    res.sendFile(join(CONSOLE_DIR, 'index.html'));
  });
  r.use(
    '/console',
    express.static(CONSOLE_DIR, {
      index: false,
      fallthrough: true,
      setHeaders: (res) => {
        res.setHeader('Cache-Control', 'no-cache');
        for (const [k, v] of Object.entries(HEADERS)) res.setHeader(k, v);
      },
    }),
  );
  return r;
}
