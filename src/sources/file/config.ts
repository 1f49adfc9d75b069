import { accessSync, constants, type Stats, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { AcceptedCharsets } from '../text.ts';
import { GlobError, globToRegExp, isInProgressName } from './glob.ts';

/** Defaults of the file drop source, in one place, with their units. */
export const FILE_SOURCE_DEFAULTS = Object.freeze({
  pattern: '*',
  format: 'auto',
  encoding: 'utf-8',
  pollIntervalMs: 1_000, // 1 second between scans of the inbox (fs.watch events scan sooner)
  complete: 'quiet',
  stableMs: 500, // with complete: quiet, a file is read once its size and mtime have not changed for 0.5 seconds
  markers: ['.done', '.ok'],
  watch: true,
  maxFileBytes: 16 * 1024 * 1024, // 16 MiB, larger files are refused to the error directory
  createDirectory: false,
} as const);

/**
 * How the source knows a file is complete:
 * - `quiet`: its size, mtime and inode have not changed for `stableMs`. A writer that pauses
 *   longer than that mid-file (a slow link, a middleware flushing in chunks) has its file cut.
 * - `rename`: writers write under a temporary name (a dot-file, `.tmp`, `.part`, or one of
 *   `temporaryNames`) and rename it into place, which is atomic: a name that matches is complete.
 * - `marker`: `x.hl7` is taken only once a marker `x.hl7.done` or `x.hl7.ok` (see `markers`),
 *   written after it, exists; the marker is removed once the file is moved.
 */
export const CompleteMode = z.enum(['quiet', 'rename', 'marker']);
export type CompleteMode = z.infer<typeof CompleteMode>;

/**
 * Configuration of a file drop source. Relative paths are resolved from the working directory
 * of the engine, like every other path of a channel file. Unknown keys are errors.
 */
export const FileSourceConfig = z
  .object({
    /** The inbox: files are read from here (not from its subdirectories). */
    directory: z.string().min(1, 'expected the inbox directory'),
    /** Create the inbox (and its parents) at start when it does not exist. */
    createDirectory: z.boolean().default(FILE_SOURCE_DEFAULTS.createDirectory),
    /** Which names to read: `*`, `?`, `[…]`, `{a,b}`, case-insensitive (`*.{hl7,txt}`). */
    pattern: z.string().default(FILE_SOURCE_DEFAULTS.pattern),
    /** `auto`: .hl7/.er7/.txt are HL7 v2, .json is JSON; other names by their first characters. */
    format: z.enum(['auto', 'hl7v2', 'json']).default(FILE_SOURCE_DEFAULTS.format),
    encoding: z.enum(['utf-8', 'latin1']).default(FILE_SOURCE_DEFAULTS.encoding),
    /** MSH-18 values (HL7 table 0211) accepted; absent, every one the engine decodes. An empty MSH-18 means `encoding`. */
    charsets: AcceptedCharsets.optional(),
    /** Where files go once every message of them is stored; `<directory>/done` by default. */
    doneDirectory: z.string().min(1).optional(),
    /** Where refused files go, each with a `<name>.error.txt`; `<directory>/error` by default. */
    errorDirectory: z.string().min(1).optional(),
    pollIntervalMs: z.number().int().min(10).max(3_600_000).default(FILE_SOURCE_DEFAULTS.pollIntervalMs),
    complete: CompleteMode.default(FILE_SOURCE_DEFAULTS.complete),
    /**
     * How long size, mtime and inode must stay unchanged before a file is read: the whole test
     * with `complete: quiet` (default 500), an extra guard with `rename` and `marker` (default 0).
     */
    stableMs: z.number().int().min(0).max(3_600_000).optional(),
    /** More names of writes in progress, never read (besides dot-files, `*.tmp` and `*.part`), e.g. `*.partial`. */
    temporaryNames: z.array(z.string()).default([]),
    /** With `complete: marker`: the suffixes of marker files (`x.hl7` + `.done`). Marker files are never read as data. */
    markers: z
      .array(z.string().regex(/^\.[^/\\]+$/, "expected a suffix such as '.done': a dot, then no path separator"))
      .min(1)
      .default([...FILE_SOURCE_DEFAULTS.markers]),
    /** Also scan on fs.watch events (inotify & co.); polling alone still works where they are not delivered (network shares). */
    watch: z.boolean().default(FILE_SOURCE_DEFAULTS.watch),
    /** Larger files are refused to the error directory without being read. */
    maxFileBytes: z.number().int().positive().default(FILE_SOURCE_DEFAULTS.maxFileBytes),
  })
  .strict()
  .superRefine(
    (c, ctx) => {
      // Runs even when other fields have problems, so all show in one pass: read them defensively.
      const raw = c as Partial<Record<keyof typeof c, unknown>>;
      if (Array.isArray(raw.temporaryNames)) {
        raw.temporaryNames.forEach((p, i) => {
          if (typeof p !== 'string') return;
          try {
            globToRegExp(p);
          } catch (e) {
            if (!(e instanceof GlobError)) throw e;
            ctx.addIssue({ code: 'custom', path: ['temporaryNames', i], message: e.message });
          }
        });
      }
      if (typeof raw.pattern === 'string') {
        try {
          globToRegExp(raw.pattern);
          if (isInProgressName(raw.pattern.replace(/\*+$/, 'x'))) {
            ctx.addIssue({
              code: 'custom',
              path: ['pattern'],
              message: `'${raw.pattern}' only matches names the source never reads: dot-files and .tmp/.part files are writes in progress`,
            });
          }
        } catch (e) {
          if (!(e instanceof GlobError)) throw e;
          ctx.addIssue({ code: 'custom', path: ['pattern'], message: e.message });
        }
      }
      if (typeof raw.directory !== 'string' || raw.directory === '') return;
      const dirs = fileSourceDirectories({
        directory: raw.directory,
        doneDirectory: typeof raw.doneDirectory === 'string' ? raw.doneDirectory : undefined,
        errorDirectory: typeof raw.errorDirectory === 'string' ? raw.errorDirectory : undefined,
      });
      for (const issue of directoryIssues(dirs, raw.createDirectory === true)) ctx.addIssue({ code: 'custom', ...issue });
    },
    { when: (payload) => payload.value !== null && typeof payload.value === 'object' },
  );
export type FileSourceConfig = z.infer<typeof FileSourceConfig>;

/** The quiet period: `stableMs`, else 500 ms with `complete: quiet` and none with `rename` or `marker`. */
export function quietPeriodMs(c: Pick<FileSourceConfig, 'complete' | 'stableMs'>): number {
  return c.stableMs ?? (c.complete === 'quiet' ? FILE_SOURCE_DEFAULTS.stableMs : 0);
}

export interface FileSourceDirectories {
  /** Absolute paths. */
  readonly inbox: string;
  readonly done: string;
  readonly error: string;
}

export function fileSourceDirectories(c: Pick<FileSourceConfig, 'directory' | 'doneDirectory' | 'errorDirectory'>): FileSourceDirectories {
  const inbox = resolve(c.directory);
  return { inbox, done: resolve(c.doneDirectory ?? join(inbox, 'done')), error: resolve(c.errorDirectory ?? join(inbox, 'error')) };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The device of a path, or of its nearest existing ancestor: where it is (or would be) created. */
function deviceOf(path: string): number | undefined {
  for (let p = path; ; p = dirname(p)) {
    const s = statOrUndefined(p);
    if (s) return s.dev;
    if (dirname(p) === p) return undefined;
  }
}

/**
 * What `conduit validate` reports about the directories: they are read only, nothing is
 * created here. Files move by rename, which is atomic only within one filesystem.
 */
function directoryIssues(dirs: FileSourceDirectories, createDirectory: boolean): Array<{ path: string[]; message: string }> {
  const issues: Array<{ path: string[]; message: string }> = [];
  const inbox = statOrUndefined(dirs.inbox);
  if (!inbox) {
    if (!createDirectory) {
      issues.push({ path: ['directory'], message: `the inbox ${dirs.inbox} does not exist; create it, or set createDirectory: true` });
    }
  } else if (!inbox.isDirectory()) {
    issues.push({ path: ['directory'], message: `${dirs.inbox} is not a directory` });
  } else {
    try {
      accessSync(dirs.inbox, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch {
      issues.push({ path: ['directory'], message: `${dirs.inbox} is not readable and writable by this process: files could be neither listed nor moved out of it` });
    }
  }
  const inboxDevice = deviceOf(dirs.inbox);
  const other = { doneDirectory: dirs.done, errorDirectory: dirs.error } as const;
  for (const [key, path] of Object.entries(other)) {
    if (path === dirs.inbox) {
      issues.push({ path: [key], message: `${key} is the inbox itself: files moved there would be read again; use a subdirectory such as ${join(dirs.inbox, key === 'doneDirectory' ? 'done' : 'error')}` });
      continue;
    }
    const s = statOrUndefined(path);
    if (s && !s.isDirectory()) issues.push({ path: [key], message: `${path} is not a directory` });
    const device = deviceOf(path);
    if (inboxDevice !== undefined && device !== undefined && device !== inboxDevice) {
      issues.push({ path: [key], message: `${path} is on another filesystem than the inbox ${dirs.inbox}: files are moved by rename, which is atomic only within one filesystem` });
    }
  }
  if (dirs.done === dirs.error && dirs.done !== dirs.inbox) {
    issues.push({ path: ['errorDirectory'], message: `errorDirectory and doneDirectory are both ${dirs.done}: refused files must stay apart from those taken in` });
  }
  return issues;
}
