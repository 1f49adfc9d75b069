import { closeSync, existsSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConduitError } from '../../errors.ts';

/** https://www.sqlite.org/fileformat.html#the_database_header: every database file starts with these 16 bytes. */
const SQLITE_HEADER = 'SQLite format 3\u0000';
const HEADER_SIZE = 100;

/**
 * Written beside the database at first open: a store existed here. A missing or empty database
 * next to it was lost (a wrong path, a failed restore, a truncation) and is refused rather than
 * silently replaced by an empty one.
 */
export function markerOf(file: string): string {
  return `${file}.created`;
}

/** What the quick look at the file found wrong, before SQLite reads it; undefined when nothing. */
function fileProblem(file: string): string | undefined {
  const size = sizeOf(file);
  if (size === 0) {
    const wal = sizeOf(`${file}-wal`);
    if (wal > 0) return `is ${existsSync(file) ? 'empty' : 'missing'} but its write-ahead log ${basename(file)}-wal (${wal} bytes) is not: the database was lost or truncated`;
    if (existsSync(markerOf(file))) {
      return `is ${existsSync(file) ? 'empty' : 'missing'} but a store was created here (${basename(markerOf(file))}): the database was lost or truncated`;
    }
    return undefined;
  }
  if (size < HEADER_SIZE) return `is truncated: ${size} bytes, less than a SQLite header`;
  const header = Buffer.alloc(HEADER_SIZE);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, HEADER_SIZE, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1', 0, 16) !== SQLITE_HEADER) return "is not a SQLite database (it does not start with 'SQLite format 3')";
  // Header offset 16: the page size, where 1 means 65536.
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (size % pageSize !== 0) return `is truncated: ${size} bytes is not a whole number of ${pageSize}-byte pages`;
  // Offsets 28 (size in pages), 24 (change counter), 92 (the counter the size is valid for).
  const pages = header.readUInt32BE(28);
  if (pages > 0 && header.readUInt32BE(24) === header.readUInt32BE(92) && size < pages * pageSize) {
    return `is truncated: ${size / pageSize} of its ${pages} pages are there`;
  }
  return undefined;
}

/**
 * Opens the database after checking it: the header and size first, then (with 'quick') SQLite's
 * `PRAGMA quick_check`, every page read once without the index cross-checks of
 * `integrity_check`: about 16 s for a store of 1 M messages (see README). A damaged file is
 * refused with what to do, never opened as healthy.
 */
export function openChecked(file: string, check: 'quick' | 'header' = 'quick'): DatabaseSync {
  if (file === ':memory:') return new DatabaseSync(file);
  const problem = fileProblem(file);
  if (problem) throw refused(file, problem);
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file);
    let found: string[] = [];
    if (check === 'quick') found = problems(db, 'quick_check');
    // 'header': the schema is still read, so a file that is not a database fails here and not later.
    else db.prepare('SELECT count(*) FROM sqlite_master').get();
    if (found.length > 0) throw refused(file, `failed SQLite's quick check: ${found.slice(0, 3).join('; ')}`);
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof ConduitError) throw e;
    throw refused(file, `could not be read: ${sqliteWords(e)}`, e);
  }
}

/** Writes the marker of a store that now exists (see markerOf), once. */
export function markStoreCreated(file: string): void {
  const marker = markerOf(file);
  if (existsSync(marker)) return;
  writeFileSync(
    marker,
    `A Conduit store was created here on ${new Date().toISOString()}.\n` +
      `If ${basename(file)} is ever missing or empty, Conduit refuses to start: restore it from a backup.\n` +
      'Delete this file only to start over with an empty store.\n',
    { mode: 0o600, flag: 'w' },
  );
}

export interface StoreReport {
  file: string;
  ok: boolean;
  /** What is wrong, one line each; empty when ok. */
  problems: string[];
  /** When the file could be read: what it holds. */
  schemaVersion?: number;
  messages?: number;
  deliveries?: number;
  pending?: number;
  bytes?: number;
}

/** `conduit store check`: the start-up checks, then SQLite's full `PRAGMA integrity_check`. */
export function checkStore(file: string): StoreReport {
  const problem = fileProblem(file);
  if (problem) return { file, ok: false, problems: [`${basename(file)} ${problem}`] };
  if (sizeOf(file) === 0) return { file, ok: true, problems: [], bytes: 0 };
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file);
    db.exec('PRAGMA busy_timeout = 5000');
    const found = problems(db, 'integrity_check');
    if (found.length > 0) return { file, ok: false, problems: found };
    const count = (sql: string) => (db!.prepare(sql).get() as { n: number }).n;
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name));
    return {
      file,
      ok: true,
      problems: [],
      bytes: sizeOf(file),
      schemaVersion: (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version,
      ...(tables.has('messages') ? { messages: count('SELECT count(*) AS n FROM messages') } : {}),
      ...(tables.has('deliveries')
        ? {
            deliveries: count('SELECT count(*) AS n FROM deliveries'),
            pending: count("SELECT count(*) AS n FROM deliveries WHERE status IN ('queued', 'sent', 'errored')"),
          }
        : {}),
    };
  } catch (e) {
    return { file, ok: false, problems: [`${basename(file)} could not be read: ${sqliteWords(e)}`] };
  } finally {
    db?.close();
  }
}

function problems(db: DatabaseSync, pragma: 'quick_check' | 'integrity_check'): string[] {
  const rows = db.prepare(`PRAGMA ${pragma}`).all() as Array<Record<string, string>>;
  const lines = rows.map((r) => String(Object.values(r)[0]));
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
}

function refused(file: string, problem: string, cause?: unknown): ConduitError {
  return new ConduitError(
    'STORE_FAILED',
    `the store ${file} ${problem}. Conduit did not open it. Restore ${basename(file)} from a backup (with the engine stopped; ` +
      `remove ${basename(file)}-wal and ${basename(file)}-shm beside it), or see what is wrong with: conduit store check --data ${dirname(file)}`,
    { location: file, ...(cause === undefined ? {} : { cause }) },
  );
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** SQLite's own words ('file is not a database', 'database or disk is full'); never data. */
export function sqliteWords(e: unknown): string {
  const x = (e instanceof ConduitError && e.cause !== undefined ? e.cause : e) as { errstr?: unknown; message?: unknown };
  return typeof x?.errstr === 'string' ? x.errstr : typeof x?.message === 'string' ? x.message : 'unknown error';
}
