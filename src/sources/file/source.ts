import { createHash } from 'node:crypto';
import { type FSWatcher, type Stats, watch } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConduitError, type ErrorCode, InputError } from '../../errors.ts';
import type { IntakeResult, Source, SourceContext } from '../types.ts';
import { type FileSourceConfig, fileSourceDirectories } from './config.ts';
import { errorReport, type Refusal, type StoredPart } from './error-report.ts';
import { globToRegExp, isInProgressName } from './glob.ts';
import { fileInputs } from './inputs.ts';
import { moveInto, moveToError } from './moves.ts';

/** What identifies one version of a file: a write changes size or mtime, a rename-over changes the inode. */
interface Observed {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

interface Tracked extends Observed {
  /** When this version was first seen. */
  readonly since: number;
}

const sameVersion = (a: Observed, b: Observed) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
const observed = (s: Stats): Observed => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });

/** File names may hold patient data (`Smith_John_MRN123.hl7`): logs carry this instead. */
export function nameTag(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 12);
}

/** The errno code of a file system error; its message holds the path, so it is never logged. */
function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'unknown';
}

/** Log fields for an unexpected error: a file system error by its code and call only (its message names the file). */
function errorFields(e: unknown): Record<string, unknown> {
  const fs = e as NodeJS.ErrnoException;
  return typeof fs?.syscall === 'string' ? { errno: errno(e), syscall: fs.syscall } : { err: e };
}

/** Debounce of fs.watch events: one scan for a burst of them. */
const WATCH_DEBOUNCE_MS = 20;

type Outcome = 'done' | 'refused' | 'changed' | 'gone' | 'backpressure' | 'failed';

/**
 * File drop source: reads the files of an inbox directory once they are complete, takes each
 * in (an HL7 v2 file may hold several messages), and only after the durable commit moves it
 * to the done directory; refused files go to the error directory with a `.error.txt`.
 *
 * - Partial writes are never read: a file is read only once its size, mtime and inode have
 *   stayed the same for `stableMs` (two scans at least that far apart), and again compared
 *   after the read and before the move. Dot-files and `.tmp`/`.part` names are never read, so
 *   a writer that writes under such a name and renames is picked up right after the rename.
 * - Files are taken in name order, one at a time; files not yet stable do not hold up others.
 * - Over the backlog bound (BACKPRESSURE), files stay where they are and wait.
 * - A crash (or a failed move) after the commit leaves the file in the inbox: it is read again
 *   and recognised as a duplicate, so nothing is stored or delivered twice.
 *
 * Logs name the directory and a hash of the file name, never the name or the content.
 */
export function createFileSource(config: FileSourceConfig, ctx: SourceContext): Source {
  const dirs = fileSourceDirectories(config);
  const matches = globToRegExp(config.pattern);
  const log = ctx.log.child({ source: 'file', channel: ctx.channelId, dir: dirs.inbox });
  const tracked = new Map<string, Tracked>();
  /** Problems already logged at warn level (per file version, or per directory), so a poll loop does not flood the log. */
  const reported = new Set<string>();
  let running = false;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerDue = Number.POSITIVE_INFINITY;
  let scanning: Promise<void> | undefined;
  let scanAgain = false;

  const warnOnce = (key: string, fields: Record<string, unknown>, msg: string) => {
    if (reported.has(key)) log.debug(fields, msg);
    else {
      reported.add(key);
      log.warn(fields, msg);
    }
  };

  /** Scans in `ms` unless a scan is due sooner already. */
  const wakeIn = (ms: number) => {
    if (!running) return;
    const at = Date.now() + ms;
    if (timer && timerDue <= at) return;
    clearTimeout(timer);
    timerDue = at;
    timer = setTimeout(() => {
      timer = undefined;
      timerDue = Number.POSITIVE_INFINITY;
      kick();
    }, ms);
  };

  const kick = () => {
    if (!running) return;
    if (scanning) {
      scanAgain = true;
      return;
    }
    scanning = scan()
      .catch((e: unknown) => {
        log.error(errorFields(e), 'scanning the inbox failed; trying again');
        return config.pollIntervalMs;
      })
      .then((nextMs) => {
        scanning = undefined;
        if (scanAgain) {
          scanAgain = false;
          wakeIn(0);
        } else wakeIn(nextMs);
      });
  };

  /** One pass over the inbox; resolves with the delay until the next one. */
  const scan = async (): Promise<number> => {
    let names: string[];
    try {
      const entries = await readdir(dirs.inbox, { withFileTypes: true });
      names = entries.filter((d) => (d.isFile() || d.isSymbolicLink()) && !isInProgressName(d.name) && matches.test(d.name)).map((d) => d.name);
      reported.delete('inbox');
    } catch (e) {
      warnOnce('inbox', { code: 'FILE_DIRECTORY_UNAVAILABLE' satisfies ErrorCode, errno: errno(e) }, 'the inbox cannot be listed; polling until it can');
      return config.pollIntervalMs;
    }
    const now = Date.now();
    let nextMs = config.pollIntervalMs;
    const ready: Array<{ name: string; version: Observed }> = [];
    const present = new Set<string>();
    for (const name of names) {
      let s: Stats;
      try {
        s = await stat(join(dirs.inbox, name));
      } catch {
        continue; // gone meanwhile (or a dangling link)
      }
      if (!s.isFile()) continue;
      present.add(name);
      const version = observed(s);
      let t = tracked.get(name);
      if (!t || !sameVersion(t, version)) {
        t = { ...version, since: now };
        tracked.set(name, t);
      }
      const wait = t.since + config.stableMs - now;
      if (wait <= 0) ready.push({ name, version });
      else nextMs = Math.min(nextMs, wait);
    }
    for (const name of tracked.keys()) if (!present.has(name)) tracked.delete(name);
    // Name order (code unit order, not the locale's), then mtime.
    ready.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version.mtimeMs - b.version.mtimeMs));
    for (const f of ready) {
      if (!running) break;
      if (ctx.overloaded()) {
        warnOnce('backpressure', { code: 'BACKPRESSURE' satisfies ErrorCode }, 'the delivery backlog is over its bound; files wait in the inbox');
        return config.pollIntervalMs;
      }
      const outcome = await take(f.name, f.version);
      if (outcome === 'backpressure') {
        warnOnce('backpressure', { code: 'BACKPRESSURE' satisfies ErrorCode }, 'the delivery backlog is over its bound; files wait in the inbox');
        return config.pollIntervalMs;
      }
      reported.delete('backpressure');
      if (outcome === 'changed') nextMs = Math.min(nextMs, Math.max(config.stableMs, WATCH_DEBOUNCE_MS));
    }
    return nextMs;
  };

  /** Reads, takes in and moves one file that has been stable. */
  const take = async (name: string, version: Observed): Promise<Outcome> => {
    const path = join(dirs.inbox, name);
    const file = nameTag(name);
    const versionKey = `${name}\0${version.size}\0${version.mtimeMs}\0${version.ino}`;
    const unchanged = async (): Promise<'yes' | 'changed' | 'gone'> => {
      try {
        return sameVersion(observed(await stat(path)), version) ? 'yes' : 'changed';
      } catch {
        return 'gone';
      }
    };

    let bytes: Buffer | undefined;
    if (version.size <= config.maxFileBytes) {
      try {
        bytes = await readFile(path);
      } catch (e) {
        if (errno(e) === 'ENOENT') return 'gone';
        warnOnce(versionKey, { file, code: 'FILE_READ_FAILED' satisfies ErrorCode, errno: errno(e) }, 'a file could not be read; it stays in the inbox');
        return 'failed';
      }
      // Written to since it looked stable: read it again once it is.
      const after = await unchanged();
      if (after !== 'yes') {
        tracked.delete(name);
        return after;
      }
    }

    const refused: Refusal[] = [];
    const stored: StoredPart[] = [];
    try {
      if (!bytes) {
        throw new InputError('INPUT_TOO_LARGE', [{ path: '(file)', code: 'too_large', message: `the file has ${version.size} bytes, more than maxFileBytes (${config.maxFileBytes})` }]);
      }
      const { inputs, unparsed } = fileInputs(name, bytes, config);
      refused.push(...unparsed);
      for (const i of inputs) {
        let result: IntakeResult;
        try {
          result = await ctx.receive(i.input, { sourceId: i.sourceId });
        } catch (e) {
          if (e instanceof InputError) {
            refused.push({ index: i.index, label: i.label, error: e });
            continue;
          }
          // Messages stored before this one are recognised as duplicates when the file is read again.
          if (e instanceof ConduitError && e.code === 'BACKPRESSURE') return 'backpressure';
          warnOnce(versionKey, { file, ...errorFields(e) }, 'taking in a file failed; it stays in the inbox and is tried again');
          return 'failed';
        }
        stored.push({ label: i.label, messageIds: result.messageIds, duplicate: result.duplicate });
      }
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      refused.push({ label: 'the file', error: e });
    }

    // A writer that replaced the file while it was taken in: its new content is read on a later scan.
    const before = await unchanged();
    if (before !== 'yes') {
      tracked.delete(name);
      log.warn({ file, outcome: before }, 'the file changed while it was taken in; it is left in place and read again');
      return before;
    }
    const messageIds = stored.flatMap((s) => s.messageIds);
    try {
      if (refused.length === 0) {
        await moveInto(path, dirs.done, name);
        tracked.delete(name);
        const duplicates = stored.filter((s) => s.duplicate).length;
        log.info({ file, messages: stored.length, duplicates, messageIds }, duplicates === stored.length ? 'file taken in again (duplicate), moved to done' : 'file taken in, moved to done');
        return 'done';
      }
      await moveToError(path, dirs.error, name, errorReport({ channelId: ctx.channelId, name, at: new Date(), refused, stored }));
      tracked.delete(name);
      log.warn(
        {
          file,
          codes: [...new Set(refused.map((r) => r.error.code))],
          // Locations such as OBX[1]-5: never the values found there.
          locations: refused.flatMap((r) => r.error.issues.map((i) => i.path)).slice(0, 20),
          storedMessages: messageIds.length,
          messageIds,
        },
        'file refused, moved to error with its .error.txt',
      );
      return 'refused';
    } catch (e) {
      warnOnce(`move\0${versionKey}`, { file, code: 'FILE_MOVE_FAILED' satisfies ErrorCode, errno: errno(e), messageIds }, 'a file taken in could not be moved; it stays in the inbox and is read again');
      return 'failed';
    }
  };

  return {
    async start() {
      if (config.createDirectory) await mkdir(dirs.inbox, { recursive: true });
      let inbox: Stats;
      try {
        inbox = await stat(dirs.inbox);
      } catch (e) {
        throw new ConduitError('CONFIG_INVALID', `the inbox ${dirs.inbox} cannot be read (${errno(e)})`, { location: 'source.directory' });
      }
      if (!inbox.isDirectory()) throw new ConduitError('CONFIG_INVALID', `${dirs.inbox} is not a directory`, { location: 'source.directory' });
      for (const [key, dir] of [['doneDirectory', dirs.done], ['errorDirectory', dirs.error]] as const) {
        await mkdir(dir, { recursive: true });
        if ((await stat(dir)).dev !== inbox.dev) {
          throw new ConduitError('CONFIG_INVALID', `${dir} is on another filesystem than the inbox: files are moved by rename`, { location: `source.${key}` });
        }
      }
      running = true;
      if (config.watch) {
        try {
          watcher = watch(dirs.inbox, { persistent: false }, () => wakeIn(WATCH_DEBOUNCE_MS));
          watcher.on('error', (e) => {
            log.warn({ errno: errno(e) }, 'watching the inbox failed; polling only');
            watcher?.close();
            watcher = undefined;
          });
        } catch (e) {
          log.warn({ errno: errno(e) }, 'cannot watch the inbox; polling only');
        }
      }
      kick();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      timer = undefined;
      watcher?.close();
      watcher = undefined;
      // The file being taken in finishes (stored and moved); no other is started.
      await scanning;
    },
    describe: () => `file ${dirs.inbox} (${config.pattern})`,
  };
}
