import { randomBytes } from 'node:crypto';
import type { PathLike } from 'node:fs';
import { lstat, mkdir, rename, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** `report.hl7` → `report.1.hl7`, `report.2.hl7`, …: the name for the n-th collision. */
export function suffixed(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name);
  const stem = ext === '' || ext === name ? name : name.slice(0, -ext.length);
  return `${stem}.${n}${ext}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * A name in `dir` that neither `name` nor any of `companions(name)` uses yet. One engine owns
 * an inbox and its done and error directories, so nothing else creates names there between
 * this check and the rename.
 */
async function freeName(dir: string, name: string, companions: (n: string) => string[] = () => []): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = suffixed(name, n);
    const taken = await Promise.all([candidate, ...companions(candidate)].map((c) => exists(join(dir, c))));
    if (!taken.some(Boolean)) return candidate;
  }
}

/** Files moved out of the inbox hold patient data: directories the source creates are the owner's only. */
export const PRIVATE_DIRECTORY = 0o700;
export const PRIVATE_FILE = 0o600;

/**
 * Moves a file into `dir` by rename (atomic within one filesystem), never over an existing
 * file: a name already there gets a suffix. Returns the name it got. A symbolic link is moved
 * as a link: its target is neither read nor moved.
 */
export async function moveInto(from: PathLike, dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIRECTORY });
  const target = await freeName(dir, name);
  await rename(from, join(dir, target));
  return target;
}

export const ERROR_REPORT_SUFFIX = '.error.txt';

/**
 * Moves a refused file into `dir` with its error report beside it as `<name>.error.txt`. The
 * report is written first (under a dot-name, then renamed), so a file in the error directory
 * always has its report; a crash in between leaves the file in the inbox and a stray report.
 */
export async function moveToError(from: PathLike, dir: string, name: string, report: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIRECTORY });
  const target = await freeName(dir, name, (n) => [n + ERROR_REPORT_SUFFIX]);
  const tmp = join(dir, `.conduit-report-${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, report, { mode: PRIVATE_FILE });
  await rename(tmp, join(dir, target + ERROR_REPORT_SUFFIX));
  await rename(from, join(dir, target));
  return target;
}
