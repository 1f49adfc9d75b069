/**
 * `npm ci` installs from package-lock.json only, and refuses a lock file that is out of sync
 * with package.json. CI installs with it (.ci/run): checked here without touching node_modules,
 * on copies of the two files, with npm's own check (`--dry-run`, from its cache, no network).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { REPO } from '../support/repo.ts';

function npmCi(t: TestContext, edit?: (lock: { packages: Record<string, unknown> }) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  edit?.(lock);
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
  const r = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

test('package-lock.json is in sync with package.json: npm ci accepts it', (t) => {
  const r = npmCi(t);
  assert.equal(r.status, 0, r.stderr);
});

test('a lock file without the optional platform packages of biome (the drift npm ci once refused) is refused by the same check', (t) => {
  const r = npmCi(t, (lock) => {
    delete lock.packages['node_modules/@biomejs/cli-win32-x64'];
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /in sync/);
});
