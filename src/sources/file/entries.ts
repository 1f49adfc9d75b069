import type { Dirent } from 'node:fs';
import type { ErrorCode } from '../../errors.ts';

/** An inbox entry that is refused unread: moved to the error directory with a report. */
export interface RefusedEntry {
  /** The name as bytes: a name that is not UTF-8 can only be renamed by its bytes. */
  readonly raw: Buffer;
  /** A name to give it in the error directory: the name, with unreadable characters as `_`. */
  readonly safeName: string;
  readonly code: Extract<ErrorCode, 'FILE_NOT_REGULAR' | 'FILE_NAME_UNREADABLE'>;
  /** Why, for the report: 'a symbolic link', 'a name that is not valid UTF-8' … */
  readonly reason: string;
  /** Whether it is a regular file (then it can be made private before the move). */
  readonly regular: boolean;
}

export interface InboxListing {
  /** Regular files with readable names that match the pattern: what the source reads. */
  readonly files: string[];
  readonly refused: RefusedEntry[];
  /** With markers: data file name → names of its marker files (regular files only). */
  readonly markers: Map<string, string[]>;
}

export interface ListingRules {
  /** Whether a name is one the source reads (the pattern). */
  readonly matches: (name: string) => boolean;
  /** Names of writes in progress, never read nor refused. */
  readonly temporary: (name: string) => boolean;
  /** Marker suffixes (`.done`), with `complete: marker`; names ending so are markers, never data. */
  readonly markerSuffixes?: readonly string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** C0 controls, DEL and C1 controls: a name holding them breaks logs, shells and reports. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const UNREADABLE = /[\u0000-\u001f\u007f-\u009f\ufffd]/g;

/** The name of an entry as text, and what is wrong with it, if anything. */
function readName(raw: Buffer): { text: string; problem?: string } {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { text: raw.toString('utf8'), problem: 'a name that is not valid UTF-8' };
  }
  return CONTROL.test(text) ? { text, problem: 'a name that holds control characters' } : { text };
}

/** A name for the report that shows every byte: printable ASCII as is, anything else as \xNN. */
export function escapedName(raw: Buffer): string {
  let out = '';
  for (const b of raw) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}

function entryType(d: Dirent<Buffer>): string {
  if (d.isSymbolicLink()) return 'a symbolic link';
  if (d.isFIFO()) return 'a FIFO (named pipe)';
  if (d.isSocket()) return 'a socket';
  if (d.isBlockDevice() || d.isCharacterDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Sorts the entries of one listing of the inbox. Directories (done/ and error/ among them) and
 * names of writes in progress are left alone, as are names the pattern does not match. Of the
 * rest, anything that is not a regular file (a link to a file elsewhere would otherwise be
 * read) and any name that is not valid UTF-8 or holds control characters is refused. Pure.
 */
export function sortListing(entries: readonly Dirent<Buffer>[], rules: ListingRules): InboxListing {
  const files: string[] = [];
  const refused: RefusedEntry[] = [];
  const markers = new Map<string, string[]>();
  for (const d of entries) {
    if (d.isDirectory()) continue;
    const { text, problem } = readName(d.name);
    if (rules.temporary(text)) continue;
    const suffix = rules.markerSuffixes?.find((s) => text.length > s.length && text.toLowerCase().endsWith(s.toLowerCase()));
    if (suffix !== undefined) {
      if (!problem && d.isFile()) {
        const data = text.slice(0, -suffix.length);
        markers.set(data, [...(markers.get(data) ?? []), text]);
      }
      continue;
    }
    if (!rules.matches(text)) continue;
    const safeName = text.replace(UNREADABLE, '_');
    if (problem) refused.push({ raw: d.name, safeName, code: 'FILE_NAME_UNREADABLE', reason: problem, regular: d.isFile() });
    else if (!d.isFile()) refused.push({ raw: d.name, safeName, code: 'FILE_NOT_REGULAR', reason: entryType(d), regular: false });
    else files.push(text);
  }
  return { files, refused, markers };
}
