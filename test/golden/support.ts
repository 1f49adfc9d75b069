/** Runs `conduit test` as a child process, in the repository or in a temp copy of its samples, channels and mappings. */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const REPO = join(import.meta.dirname, '..', '..');
const BIN = join(REPO, 'src', 'bin', 'conduit.ts');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines, without the empty last one. */
  lines: string[];
}

/** `conduit ...args` in `cwd`, with only PATH in its environment so no CONDUIT_* of the shell leaks in. */
export function conduit(args: string[], cwd = REPO): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').slice(0, -1) };
}

/** A temp copy of the repository's samples/, channels/ and mappings/, removed when the test ends. */
export function repoCopy(t: TestContext): { dir: string; path(rel: string): string; read(rel: string): string; write(rel: string, text: string): void } {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-golden-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['samples', 'channels', 'mappings']) cpSync(join(REPO, sub), join(dir, sub), { recursive: true });
  return {
    dir,
    path: (rel) => join(dir, rel),
    read: (rel) => readFileSync(join(dir, rel), 'utf8'),
    write: (rel, text) => writeFileSync(join(dir, rel), text),
  };
}

/** The `N passed, M failed` line, which is the last one. */
export function summary(r: Run): { passed: number; failed: number } {
  const m = /^(\d+) passed, (\d+) failed$/.exec(r.lines.at(-1) ?? '');
  if (!m) throw new Error(`no summary line at the end of:\n${r.stdout}\n${r.stderr}`);
  return { passed: Number(m[1]), failed: Number(m[2]) };
}
