/**
 * The tests that read ../shared/hl7-samples: without the folder each says why it is skipped,
 * and under CI (where shared/ is always beside the clone) each fails instead of skipping.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from './repo.ts';

const READERS = ['test/engine/mllp-listener.test.ts', 'test/protocols/hl7v2/oracle.test.ts', 'test/protocols/hl7v2/roundtrip.test.ts', 'test/mapping/hl7v2-oru/shared-samples.test.ts'];
const READER_TESTS = 8;
/** A folder that does not exist. */
const missingDir = () => join(tmpdir(), `conduit-no-hl7-samples-${randomUUID()}`);

function runReaders(missing: string, ci: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env, HL7_SAMPLES_DIR: missing };
  delete env.CI;
  delete env.NODE_TEST_CONTEXT; // else the child reports to this runner instead of printing TAP
  if (ci) env.CI = 'true';
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...READERS], { cwd: REPO, env, encoding: 'utf8' });
  return { status: run.status, tap: run.stdout };
}

/** The names of the tests of a TAP report that end as `ok … # SKIP` or `not ok`. */
function tapNames(tap: string, which: 'skipped' | 'failed'): string[] {
  const line = which === 'skipped' ? /^\s*ok \d+ - (.*) # SKIP/ : /^\s*not ok \d+ - (.*)$/;
  return tap.split('\n').flatMap((l) => line.exec(l)?.[1] ?? []);
}

test('without the shared samples, the 8 tests that read them are skipped, saying which folder and why; under CI they fail', () => {
  const missing = missingDir();
  const local = runReaders(missing, false);
  const skipped = tapNames(local.tap, 'skipped');
  assert.equal(skipped.length, READER_TESTS, local.tap);
  const reasons = local.tap.split('\n').filter((l) => l.includes('# SKIP'));
  for (const r of reasons) assert.ok(r.includes(`${missing} not found: the real-world HL7 v2 samples are not checked`), r);

  const ci = runReaders(missing, true);
  assert.notEqual(ci.status, 0);
  assert.match(ci.tap, /^# skipped 0$/m);
  const failed = tapNames(ci.tap, 'failed');
  for (const name of skipped) assert.ok(failed.includes(name), `under CI, '${name}' fails`);
  assert.ok(ci.tap.includes('CI must have them'));
});
