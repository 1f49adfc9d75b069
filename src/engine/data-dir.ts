import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The store's database file, in the data directory (the engine's and the CLI's). */
export const STORE_FILE = 'conduit.db';

/** Owner only: the data directory and the store hold patient data. */
const DATA_DIR_MODE = 0o700;
const DATA_FILE_MODE = 0o600;

/** SQLite's own files next to the database, created by SQLite with the database file's mode. */
const SQLITE_COMPANIONS = ['', '-wal', '-shm', '-journal'];

/**
 * Makes the data directory and the database's files owner-only, whatever the umask: creates
 * the directory 0700 and the database file 0600 before SQLite opens it (SQLite gives the -wal
 * and -shm files the database file's mode), and tightens existing ones that group or others
 * could read. Returns the paths it tightened, and those it may not chmod (another owner),
 * which it leaves as they are: both are worth a warning.
 */
export function secureDataDirectory(dataDir: string, dbFileName: string): { tightened: string[]; left: string[] } {
  const paths = { tightened: [] as string[], left: [] as string[] };
  mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  tighten(dataDir, DATA_DIR_MODE, paths);
  const db = join(dataDir, dbFileName);
  // 'a' creates an empty file (a valid empty database for SQLite) and never truncates one.
  closeSync(openSync(db, 'a', DATA_FILE_MODE));
  for (const suffix of SQLITE_COMPANIONS) tighten(db + suffix, DATA_FILE_MODE, paths);
  return paths;
}

function tighten(path: string, mode: number, paths: { tightened: string[]; left: string[] }): void {
  let current: number;
  try {
    current = statSync(path).mode & 0o777;
  } catch {
    return; // not there (yet)
  }
  if ((current & ~mode) === 0) return;
  try {
    chmodSync(path, current & mode);
    paths.tightened.push(path);
  } catch {
    paths.left.push(path);
  }
}
