/**
 * Helpers for the platform-result mapping tests: the repository's sample events and mapping
 * settings. The property test's seeded PRNG is ../support/prng.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { InputError, type InputIssue } from '../../src/errors.ts';
import { mapPlatformEvent } from '../../src/mapping/platform-result/map.ts';
import { PlatformResultSettings } from '../../src/mapping/platform-result/settings.ts';
import type { MappedInput } from '../../src/mapping/types.ts';

const REPO = join(import.meta.dirname, '..', '..');

/** The settings of the repository's mappings/platform-result.yaml. */
export const SETTINGS: PlatformResultSettings = PlatformResultSettings.parse(
  (parse(readFileSync(join(REPO, 'mappings', 'platform-result.yaml'), 'utf8')) as { settings: unknown }).settings,
);

/** A sample event of samples/platform-events/, parsed, as a fresh mutable object. */
// biome-ignore lint/suspicious/noExplicitAny: samples are edited freely by the tests.
export function sample(name: string): any {
  return JSON.parse(readFileSync(join(REPO, 'samples', 'platform-events', `${name}.json`), 'utf8'));
}

/** Maps an event and returns it as stored (JSON), so absent and undefined fields compare alike. */
export function mapped(body: unknown, settings: PlatformResultSettings = SETTINGS): MappedInput {
  return JSON.parse(JSON.stringify(mapPlatformEvent(body, settings))) as MappedInput;
}

/** The InputError an event is refused with. */
export function refusal(body: unknown, settings: PlatformResultSettings = SETTINGS): InputError {
  try {
    mapPlatformEvent(body, settings);
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e;
  }
  assert.fail('the event was accepted');
}

/** The issues an event is refused with, as `path: message` lines for readable failures. */
export function issuePaths(body: unknown): string[] {
  return refusal(body).issues.map((i: InputIssue) => i.path);
}
