/** Runs the real CLI (src/bin/conduit.js) as a child process from the repository root. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const REPO = join(import.meta.dirname, '..', '..');
export const SAMPLES = join(REPO, 'samples', 'platform-events');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `conduit ...args` with only PATH (and `env`) in its environment, so no CONDUIT_* of the shell leaks in. */
export function conduit(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, ['src/bin/conduit.js', ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A temp directory removed when the test ends; `write` puts a file in it and returns its path. */
export function tempFiles(t: TestContext): { dir: string; write(name: string, text: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

/** The ids of the repository's channel files, in the order validate lists them. */
export function repoChannelIds(): string[] {
  return readdirSync(join(REPO, 'channels'))
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => f.replace(/\.(ya?ml|json)$/, ''));
}
