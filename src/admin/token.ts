import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConduitError } from '../errors.ts';

export interface AdminToken {
  token: string;
  /** True when the token was generated now (it is printed once). */
  generated: boolean;
  file?: string;
}

const ADMIN_TOKEN_ENV = 'CONDUIT_ADMIN_TOKEN';
const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Visible ASCII only: a header carries nothing else reliably, and a blank or short token would guard nothing. */
const TOKEN = /^[\x21-\x7e]+$/;

/** A usable admin token, or CONFIG_INVALID naming where it came from and what is expected. */
function checked(token: string, where: string): string {
  const t = token.trim();
  const problem =
    t === ''
      ? 'is empty'
      : !TOKEN.test(t)
        ? 'holds spaces or characters other than visible ASCII'
        : t.length < MIN_ADMIN_TOKEN_LENGTH
          ? `is ${t.length} characters long`
          : undefined;
  if (problem === undefined) return t;
  throw new ConduitError(
    'CONFIG_INVALID',
    `the admin token from ${where} ${problem}; expected at least ${MIN_ADMIN_TOKEN_LENGTH} visible ASCII characters without spaces (or unset ${ADMIN_TOKEN_ENV} and delete the file to have one generated)`,
    { location: where },
  );
}

/**
 * The admin bearer token: CONDUIT_ADMIN_TOKEN, else the one generated into the data directory
 * at first start. An empty, blank or short token, set or read from the file, throws
 * CONFIG_INVALID: the engine must not start with an admin API that such a token would guard.
 */
export function resolveAdminToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): AdminToken {
  const fromEnv = env[ADMIN_TOKEN_ENV];
  if (fromEnv !== undefined) return { token: checked(fromEnv, `the environment variable ${ADMIN_TOKEN_ENV}`), generated: false };
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return { token: checked(readFileSync(file, 'utf8'), file), generated: false, file };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(24).toString('base64url');
  // Written to a temp file, then linked into place: a full disk or a crash leaves no file or
  // the whole token, never an empty one; and unlike a rename, the link never replaces the
  // token of an engine that started at the same moment.
  const temp = `${file}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  try {
    writeFileSync(temp, `${token}\n`, { mode: 0o600, flag: 'wx', flush: true });
    linkSync(temp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && existsSync(file)) return { token: checked(readFileSync(file, 'utf8'), file), generated: false, file };
    throw e;
  } finally {
    rmSync(temp, { force: true });
  }
  return { token, generated: true, file };
}

export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/i.exec(header ?? '');
  if (!m || token === '') return false;
  const given = Buffer.from(m[1]!.trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
