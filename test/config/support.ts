/**
 * Temp configuration directories for the loader tests: `channels/` and `mappings/` holding
 * the repository's own files (unless told otherwise) plus the files a test writes.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type Configuration, loadConfiguration } from '../../src/config/load.ts';
import type { ConfigIssue } from '../../src/config/yaml-file.ts';

export const REPO = join(import.meta.dirname, '..', '..');

/** The ids of the repository's channel files (channels/*.yaml), sorted as the loader reads them. */
export function repoChannelIds(): string[] {
  return readdirSync(join(REPO, 'channels'))
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => f.replace(/\.(ya?ml|json)$/, ''));
}

export interface ConfigDir {
  readonly dir: string;
  readonly channelsDir: string;
  readonly mappingsDir: string;
  /** The name the loader reports for a file of this directory (relative to the cwd). */
  channelFile(name: string): string;
  mappingFile(name: string): string;
  load(env?: NodeJS.ProcessEnv): Configuration;
  remove(): void;
}

export interface ConfigDirOptions {
  /** Channel files to write: file name → YAML text. */
  channels?: Record<string, string>;
  /** Mapping files to write (over the copies of the repository's). */
  mappings?: Record<string, string>;
  /** Copy these channel files of the repository's channels/ (e.g. 'platform-to-lis.yaml'). */
  repoChannels?: string[];
  /** Copy the repository's mappings/ (default true). */
  repoMappings?: boolean;
}

export function configDir(o: ConfigDirOptions = {}): ConfigDir {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-config-'));
  const channelsDir = join(dir, 'channels');
  const mappingsDir = join(dir, 'mappings');
  mkdirSync(channelsDir);
  mkdirSync(mappingsDir);
  for (const name of o.repoChannels ?? []) cpSync(join(REPO, 'channels', name), join(channelsDir, name));
  if (o.repoMappings !== false) cpSync(join(REPO, 'mappings'), mappingsDir, { recursive: true });
  for (const [name, text] of Object.entries(o.channels ?? {})) writeFileSync(join(channelsDir, name), text);
  for (const [name, text] of Object.entries(o.mappings ?? {})) writeFileSync(join(mappingsDir, name), text);
  return {
    dir,
    channelsDir,
    mappingsDir,
    channelFile: (name) => relative(process.cwd(), join(channelsDir, name)),
    mappingFile: (name) => relative(process.cwd(), join(mappingsDir, name)),
    load: (env = {}) => loadConfiguration({ channelsDir, mappingsDir }, env),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** 1-based line of the first line of `text` that contains `needle` (fails the test if none does). */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`'${needle}' is not in the text`);
  return i + 1;
}

/** The one issue at `path` of `file`; fails with every issue listed when there is not exactly one. */
export function issueAt(issues: readonly ConfigIssue[], file: string, path: string): ConfigIssue {
  const found = issues.filter((i) => i.file === file && i.path === path);
  if (found.length !== 1) {
    throw new Error(`expected one issue at ${file} ${path}, found ${found.length}:\n${issues.map((i) => JSON.stringify(i)).join('\n')}`);
  }
  return found[0]!;
}

/**
 * A valid webhook → MLLP channel in YAML, one key per line, for tests that break one thing.
 * `replace` swaps whole lines (matched by their trimmed text) to introduce the problem.
 */
export function channelYaml(id: string, replace: Record<string, string | null> = {}): string {
  const lines = [
    `id: ${id}`,
    'description: test channel',
    'enabled: true',
    'source:',
    '  type: webhook',
    `  path: /hooks/${id}`,
    'mapping: platform-result',
    'destinations:',
    '  - id: lis',
    '    mapping: oru-r01-lis',
    '    sender:',
    '      type: mllp',
    '      host: 127.0.0.1',
    '      port: 2575',
    '    delivery:',
    '      maxAttempts: 3',
  ];
  const out: string[] = [];
  for (const l of lines) {
    const key = l.trim();
    if (key in replace) {
      const r = replace[key];
      if (r !== null && r !== undefined) out.push(r);
    } else out.push(l);
  }
  return `${out.join('\n')}\n`;
}
