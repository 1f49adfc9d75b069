/** Runs `conduit test` as a child process, in the repository or in a temp copy of its samples, channels and mappings. */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const REPO = join(import.meta.dirname, '..', '..');
const BIN = join(REPO, 'src', 'bin', 'conduit.js');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines, without the empty last one. */
  lines: string[];
}

/** `conduit ...args` in `cwd`, with only PATH in its environment so no CONDUIT_* of the shell leaks in. */
export function conduit(args: string[], cwd = REPO): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, lines: stdout.split('\n').slice(0, -1) });
    });
  });
}

export interface RepoCopy {
  dir: string;
  path(rel: string): string;
  read(rel: string): string;
  write(rel: string, text: string): void;
}

/** The sample channels the temp copies keep: the two that take platform events to HL7 v2 and to FHIR. */
export const COPIED_CHANNELS = ['platform-to-ehr', 'platform-to-lis'];

/**
 * A temp copy of the repository's samples/ and mappings/ and of the COPIED_CHANNELS, removed
 * when the test ends. Its expected files are rewritten first (`conduit test --update`, which
 * also removes those of the channels left out), so a test that breaks one starts from outputs
 * that all pass, whatever the encoders give today.
 */
export async function repoCopy(t: TestContext): Promise<RepoCopy> {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-golden-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['samples', 'mappings']) cpSync(join(REPO, sub), join(dir, sub), { recursive: true });
  mkdirSync(join(dir, 'channels'));
  for (const id of COPIED_CHANNELS) cpSync(join(REPO, 'channels', `${id}.yaml`), join(dir, 'channels', `${id}.yaml`));
  const update = await conduit(['test', '--update'], dir);
  if (update.status !== 0) throw new Error(`conduit test --update in the copy: exit ${update.status}\n${update.stdout}\n${update.stderr}`);
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
