import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { type Configuration, loadConfiguration } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import type { ConfigIssue } from '../config/yaml-file.ts';
import { type ConfigDirs, writeEditable } from './files.ts';

/**
 * The configuration as it would be with `files` changed: the channels and mappings directories
 * are copied to a temporary directory, the files written there, and the whole configuration
 * loaded from it, with every check the engine makes. The running configuration and the files on
 * disk are never touched. Issues name the files as the workbench does (`mappings/x.yaml`).
 */
export async function withChanges<T>(
  settings: Pick<EngineSettings, 'channelsDir' | 'mappingsDir' | 'tlsClientCa'>,
  files: Readonly<Record<string, string>>,
  work: (configuration: Configuration) => Promise<T>,
): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), 'conduit-workbench-'));
  try {
    const dirs: ConfigDirs = { channelsDir: join(root, 'channels'), mappingsDir: join(root, 'mappings') };
    cpSync(settings.channelsDir, dirs.channelsDir, { recursive: true });
    cpSync(settings.mappingsDir, dirs.mappingsDir, { recursive: true });
    writeEditable(dirs, files);
    const loaded = loadConfiguration({ ...dirs, ...(settings.tlsClientCa ? { tlsClientCa: settings.tlsClientCa } : {}) });
    const named = (issue: ConfigIssue): ConfigIssue => {
      const abs = resolve(issue.file);
      const inside = relative(root, abs);
      return inside.startsWith('..') ? issue : { ...issue, file: inside.split('\\').join('/') };
    };
    return await work({ channels: loaded.channels, issues: loaded.issues.map(named) });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
