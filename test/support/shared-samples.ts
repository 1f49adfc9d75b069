/**
 * The real-world HL7 v2 samples of ../shared/hl7-samples (other people's data: read in place,
 * never copied into the repository). `HL7_SAMPLES_DIR` points elsewhere.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { REPO } from './repo.ts';

export const SHARED_SAMPLES_DIR = process.env.HL7_SAMPLES_DIR ?? join(REPO, '..', 'shared', 'hl7-samples');

/**
 * Whether the shared samples are there. Without them the test is skipped, saying why; under
 * CI (`CI` set) it fails instead: CI always has shared/ beside the clone, so a skip there would
 * hide that the samples were never checked.
 */
export function sharedSamplesPresent(t: TestContext): boolean {
  if (existsSync(SHARED_SAMPLES_DIR)) return true;
  const why = `${SHARED_SAMPLES_DIR} not found: the real-world HL7 v2 samples are not checked (they are read from ../shared/hl7-samples beside the clone, or HL7_SAMPLES_DIR)`;
  if (process.env.CI) assert.fail(`${why}; CI must have them`);
  t.skip(why);
  return false;
}
