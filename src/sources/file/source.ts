import { createHash } from 'node:crypto';
import { type Dirent, type FSWatcher, type Stats, watch } from 'node:fs';
import { type FileHandle, lstat, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConduitError, type ErrorCode, InputError } from '../../errors.ts';
import type { IntakeResult, Source, SourceContext } from '../types.ts';
import { type FileSourceConfig, fileSourceDirectories, quietPeriodMs } from './config.ts';
import { escapedName, type RefusedEntry, sortListing } from './entries.ts';
import { errorReport, type Refusal, type StoredPart } from './error-report.ts';
import { globToRegExp, isInProgressName } from './glob.ts';
import { MAX_LISTED_PROBLEMS, MORE_PROBLEMS } from './hl7-file.ts';
import { fileInputs } from './inputs.ts';
import { moveInto, moveToError, PRIVATE_DIRECTORY, PRIVATE_FILE } from './moves.ts';
import { openNoFollow, readExactly } from './open-file.ts';

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
export function nameTag(name: string | Buffer): string {
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

/** claimed: another instance sharing the store is taking the file. */
type Outcome = 'done' | 'refused' | 'changed' | 'gone' | 'backpressure' | 'failed' | 'claimed';

/**
 * File drop source: reads the files of an inbox directory once they are complete, takes each
 * in (an HL7 v2 file may hold several messages), and only after the durable commit moves it
 * to the done directory; refused files go to the error directory with a `.error.txt`.
 *
 * - Partial writes are never read. `complete` says how a file is known to be complete: a
 *   quiet period (`stableMs` without a change of size, mtime or inode), a rename into place, or
 *   a marker file written after it. The file is compared again after the read and before the
 *   move. Dot-files, `.tmp`/`.part` names and `temporaryNames` are never read.
 * - Only regular files are read, through a descriptor opened without following links: a
 *   symbolic link (to a file outside the inbox, say), FIFO, socket or device, and a name that is
 *   not UTF-8 or holds control characters, is moved to the error directory unread.
 * - Files are taken in name order, one at a time; files not yet complete do not hold up others.
 *   A file's work is bounded: over `maxFileBytes` it is refused unread, its report lists the
 *   first problems and counts the rest, and a file whose first messages are all refused is
 *   refused whole without trying the others.
 * - Over the backlog bound (BACKPRESSURE), files stay where they are and wait.
 * - A crash (or a failed move) after the commit leaves the file in the inbox: it is read again
 *   and recognised as a duplicate, so nothing is stored or delivered twice.
 * - Moved files are made owner-only (0600), like the reports beside them.
 *
 * Logs name the directory and a hash of the file name, never the name or the content.
 */
export function createFileSource(config: FileSourceConfig, ctx: SourceContext): Source {
  const dirs = fileSourceDirectories(config);
  const matches = globToRegExp(config.pattern);
  const temporary = config.temporaryNames.map((p) => globToRegExp(p));
  const quietMs = quietPeriodMs(config);
  const rules = {
    matches: (name: string) => matches.test(name),
    temporary: (name: string) => isInProgressName(name) || temporary.some((t) => t.test(name)),
    ...(config.complete === 'marker' ? { markerSuffixes: config.markers } : {}),
  };
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

  /** With `complete: marker`: whether a marker of the file was written after its last change. */
  const markedComplete = async (markers: readonly string[] | undefined, version: Observed): Promise<boolean> => {
    for (const m of markers ?? []) {
      try {
        const s = await lstat(join(dirs.inbox, m));
        // A marker older than the file is left from an earlier file of that name (a crash between the move and its removal).
        if (s.isFile() && s.mtimeMs >= version.mtimeMs) return true;
      } catch {
        // Gone meanwhile.
      }
    }
    return false;
  };

  /** One pass over the inbox; resolves with the delay until the next one. */
  const scan = async (): Promise<number> => {
    let entries: Dirent<Buffer>[];
    try {
      entries = await readdir(dirs.inbox, { withFileTypes: true, encoding: 'buffer' });
      reported.delete('inbox');
    } catch (e) {
      warnOnce('inbox', { code: 'FILE_DIRECTORY_UNAVAILABLE' satisfies ErrorCode, errno: errno(e) }, 'the inbox cannot be listed; polling until it can');
      return config.pollIntervalMs;
    }
    const listing = sortListing(entries, rules);
    for (const entry of listing.refused) {
      if (!running) break;
      await refuseEntry(entry);
    }
    const now = Date.now();
    let nextMs = config.pollIntervalMs;
    const ready: Array<{ name: string; version: Observed }> = [];
    const present = new Set<string>();
    for (const name of listing.files) {
      let s: Stats;
      try {
        s = await lstat(join(dirs.inbox, name));
      } catch {
        continue; // gone meanwhile
      }
      if (!s.isFile()) continue; // replaced meanwhile: sorted out on the next scan
      present.add(name);
      const version = observed(s);
      let t = tracked.get(name);
      if (!t || !sameVersion(t, version)) {
        t = { ...version, since: now };
        tracked.set(name, t);
      }
      if (config.complete === 'marker' && !(await markedComplete(listing.markers.get(name), version))) continue;
      const wait = t.since + quietMs - now;
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
      const outcome = await take(f.name, f.version, listing.markers.get(f.name) ?? []);
      if (outcome === 'backpressure') {
        warnOnce('backpressure', { code: 'BACKPRESSURE' satisfies ErrorCode }, 'the delivery backlog is over its bound; files wait in the inbox');
        return config.pollIntervalMs;
      }
      reported.delete('backpressure');
      if (outcome === 'changed') nextMs = Math.min(nextMs, Math.max(quietMs, WATCH_DEBOUNCE_MS));
    }
    return nextMs;
  };

  /** Moves an entry that is not read (not a regular file, or an unreadable name) to the error directory. */
  const refuseEntry = async (entry: RefusedEntry): Promise<void> => {
    const file = nameTag(entry.raw);
    const from = Buffer.concat([Buffer.from(`${dirs.inbox}/`), entry.raw]);
    const error = new InputError(entry.code, [
      { path: '(file)', code: 'refused', message: `${entry.reason}: it was not read; only regular files with UTF-8 names without control characters are` },
    ]);
    try {
      if (entry.regular) await makePrivate(from, file);
      const name = await moveToError(from, dirs.error, entry.safeName, errorReport({ channelId: ctx.channelId, name: escapedName(entry.raw), at: new Date(), refused: [{ label: 'the file', error }], stored: [] }));
      log.warn({ file, code: entry.code, moved: nameTag(name) }, `${entry.reason} in the inbox was moved to error unread`);
    } catch (e) {
      if (errno(e) === 'ENOENT') return;
      warnOnce(`refuse\0${entry.raw.toString('hex')}`, { file, code: 'FILE_MOVE_FAILED' satisfies ErrorCode, errno: errno(e) }, `${entry.reason} in the inbox could not be moved to error; it is left unread`);
    }
  };

  /** Makes a regular file owner-only before it is moved; one owned by another user keeps its mode (logged). */
  const makePrivate = async (path: string | Buffer, file: string, fh?: FileHandle): Promise<void> => {
    let own: FileHandle | undefined;
    try {
      own = fh ? undefined : await openNoFollow(path);
      const handle = (fh ?? own)!;
      if ((await handle.stat()).isFile()) await handle.chmod(PRIVATE_FILE);
    } catch (e) {
      warnOnce(`chmod\0${file}`, { file, errno: errno(e) }, 'a file could not be made owner-only (0600) before it was moved; it keeps its mode');
    } finally {
      await own?.close();
    }
  };

  /** Removes the markers of a file once it is moved (`complete: marker`). */
  const removeMarkers = async (markers: readonly string[], file: string) => {
    for (const m of markers) {
      try {
        await unlink(join(dirs.inbox, m));
      } catch (e) {
        if (errno(e) !== 'ENOENT') warnOnce(`marker\0${m}`, { file, errno: errno(e) }, 'the marker of a file that was moved could not be removed');
      }
    }
  };

  /**
   * Reads, takes in and moves one file that is complete; skipped while another instance sharing
   * the store has it (see SourceContext.claim).
   */
  const take = async (name: string, version: Observed, markers: readonly string[]): Promise<Outcome> => {
    const release = await ctx.claim(`file:${ctx.channelId}:${join(dirs.inbox, name)}`);
    if (!release) return 'claimed';
    try {
      return await takeClaimed(name, version, markers);
    } finally {
      await release().catch((e: unknown) => log.warn({ file: nameTag(name), err: e }, 'the claim of a file could not be released; it expires'));
    }
  };

  const takeClaimed = async (name: string, version: Observed, markers: readonly string[]): Promise<Outcome> => {
    const path = join(dirs.inbox, name);
    const file = nameTag(name);
    let fh: FileHandle;
    try {
      fh = await openNoFollow(path);
    } catch (e) {
      if (errno(e) === 'ENOENT') return 'gone';
      // Replaced by a symbolic link since it was listed: refused on the next scan.
      if (errno(e) === 'ELOOP') return 'changed';
      warnOnce(`open\0${name}`, { file, code: 'FILE_READ_FAILED' satisfies ErrorCode, errno: errno(e) }, 'a file could not be read; it stays in the inbox');
      return 'failed';
    }
    try {
      return await takeOpen(fh, name, path, file, version, markers);
    } finally {
      await fh.close();
    }
  };

  const takeOpen = async (fh: FileHandle, name: string, path: string, file: string, version: Observed, markers: readonly string[]): Promise<Outcome> => {
    const versionKey = `${name}\0${version.size}\0${version.mtimeMs}\0${version.ino}`;
    /** Whether the inbox entry is still the file that was opened, unchanged. */
    const unchanged = async (): Promise<'yes' | 'changed' | 'gone'> => {
      try {
        const [opened, entry] = await Promise.all([fh.stat(), lstat(path)]);
        return entry.isFile() && sameVersion(observed(entry), version) && sameVersion(observed(opened), version) ? 'yes' : 'changed';
      } catch {
        return 'gone';
      }
    };
    if ((await unchanged()) !== 'yes') {
      tracked.delete(name);
      return 'changed';
    }

    let bytes: Buffer | undefined;
    if (version.size <= config.maxFileBytes) {
      try {
        bytes = await readExactly(fh, version.size);
      } catch (e) {
        warnOnce(versionKey, { file, code: 'FILE_READ_FAILED' satisfies ErrorCode, errno: errno(e) }, 'a file could not be read; it stays in the inbox');
        return 'failed';
      }
      // Written to since it looked complete: read it again once it is.
      const after = bytes ? await unchanged() : 'changed';
      if (after !== 'yes') {
        tracked.delete(name);
        return after;
      }
    }

    const refused: Refusal[] = [];
    const stored: StoredPart[] = [];
    try {
      if (!bytes) {
        throw new InputError('INPUT_TOO_LARGE', [{ path: '(file)', code: 'too_large', message: `the file has ${version.size} bytes, more than maxFileBytes (${config.maxFileBytes}); it was not read` }]);
      }
      const { inputs, unparsed } = fileInputs(name, bytes, config);
      refused.push(...unparsed);
      for (const [n, i] of inputs.entries()) {
        if (stored.length === 0 && refused.length >= MAX_LISTED_PROBLEMS) {
          // Junk that happens to hold many MSH lines: bounded work, the file is refused whole.
          refused.push({ index: inputs.length, label: 'the rest of the file', error: new InputError('INPUT_INVALID', [{ path: '(file)', code: MORE_PROBLEMS, message: `${inputs.length - n} more message(s) not tried: the first ${refused.length} were all refused` }]) });
          break;
        }
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
    await makePrivate(path, file, fh);
    try {
      if (refused.length === 0) {
        await moveInto(path, dirs.done, name);
        tracked.delete(name);
        await removeMarkers(markers, file);
        const duplicates = stored.filter((s) => s.duplicate).length;
        log.info({ file, messages: stored.length, duplicates, messageIds }, duplicates === stored.length ? 'file taken in again (duplicate), moved to done' : 'file taken in, moved to done');
        return 'done';
      }
      await moveToError(path, dirs.error, name, errorReport({ channelId: ctx.channelId, name, at: new Date(), refused, stored }));
      tracked.delete(name);
      await removeMarkers(markers, file);
      log.warn(
        {
          file,
          codes: [...new Set(refused.map((r) => r.error.code))],
          // Locations such as OBX[1]-5: never the values found there.
          locations: refused.flatMap((r) => r.error.issues.map((i) => i.path)).slice(0, 20),
          storedMessages: messageIds.length,
          messageIds: messageIds.slice(0, MAX_LISTED_PROBLEMS),
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
        await mkdir(dir, { recursive: true, mode: PRIVATE_DIRECTORY });
        if ((await stat(dir)).dev !== inbox.dev) {
          throw new ConduitError('CONFIG_INVALID', `${dir} is on another filesystem than the inbox: files are moved by rename`, { location: `source.${key}` });
        }
      }
      running = true;
      if (config.complete === 'quiet') {
        log.warn(
          { complete: 'quiet', stableMs: quietMs },
          'files are taken after a quiet period alone: a writer that pauses longer than stableMs mid-file has its file cut; set complete: marker or rename if the writers can',
        );
      }
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
    describe: () => `file ${dirs.inbox} (${config.pattern}, complete: ${config.complete})`,
  };
}
