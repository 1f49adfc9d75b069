import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { InputError } from '../errors.ts';

/** Where the workbench's files live: the engine's channels and mappings directories. */
export interface ConfigDirs {
  readonly channelsDir: string;
  readonly mappingsDir: string;
}

/** Files the workbench may read and write: `channels/<name>.yaml`, `mappings/<name>.yaml`, `mappings/tables/<name>.csv`. */
const EDITABLE = /^(channels\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.ya?ml|mappings\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(ya?ml|json)|mappings\/tables\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.csv)$/;

/** A workbench path (`mappings/oru-r01-lis.yaml`) → the file on disk; refused unless it is one the workbench edits. */
export function resolveEditable(dirs: ConfigDirs, path: string): string {
  const clean = normalize(path).split(sep).join('/');
  if (clean !== path || !EDITABLE.test(path)) {
    throw new InputError('INPUT_INVALID', [
      {
        path: `files.${path}`,
        code: 'invalid',
        message: 'expected channels/<name>.yaml, mappings/<name>.yaml or mappings/tables/<name>.csv',
      },
    ]);
  }
  const [top, ...rest] = path.split('/');
  return join(top === 'channels' ? dirs.channelsDir : dirs.mappingsDir, ...rest);
}

/** Every file under a directory, as workbench paths under `prefix`. */
function walk(dir: string, prefix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : e.isFile() ? [`${prefix}${e.name}`] : [],
  );
}

/** The editable files, by workbench path. */
export function listEditable(dirs: ConfigDirs): string[] {
  return [...walk(dirs.channelsDir, 'channels/'), ...walk(dirs.mappingsDir, 'mappings/')].filter((p) => EDITABLE.test(p)).sort();
}

export function readEditable(dirs: ConfigDirs, path: string): string {
  return readFileSync(resolveEditable(dirs, path), 'utf8');
}

/**
 * Writes files in place, each through a temp file and a rename, so the engine's file watcher
 * never reads half a file.
 */
export function writeEditable(dirs: ConfigDirs, files: Readonly<Record<string, string>>): void {
  for (const [path, text] of Object.entries(files)) {
    const target = resolveEditable(dirs, path);
    const temp = join(dirname(target), `.${process.pid}.workbench.tmp`);
    try {
      writeFileSync(temp, text, { flush: true });
      renameSync(temp, target);
    } finally {
      rmSync(temp, { force: true });
    }
  }
}
